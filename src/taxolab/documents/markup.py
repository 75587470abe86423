"""Facts that documents keep outside sentences (tables, definition lists), as sentence-like text, and
embedded pictures, which carry no text at all.

Knowledge documents hold many of their facts in tables (timetables, price lists,
specifications). A reader that keeps only sentences drops them without a word
(issue 19, case 17), so every table row becomes one line that names its column
headers next to its values, under the nearest heading::

    | Departs | From     |        Ferry — Departs: 07:15; From: Examplia.
    |---------|----------|   ->
    | 07:15   | Examplia |

That line is a true statement of the document, usable as an answer and as
passage text. Markdown (GFM) pipe tables are found with markdown-it-py's table
rule (its line map tells where each table lies), HTML ``<table>`` elements with the
standard library's HTML parser, and definition lists (``Term`` then ``: definition``,
the PHP Markdown Extra and Pandoc syntax) become ``Term: definition.``.

Pictures that Word or HTML converters embed as ``data:image/...;base64,...`` URIs
are tens of thousands of characters without a space (case 18): :func:`drop_data_uris`
removes them before chunking and says how much it removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_HTML_TABLE = re.compile(r"<table\b[^>]*>.*?</table\s*>", re.IGNORECASE | re.DOTALL)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(\S.*)$")
_SENTENCE_END = (".", "!", "?", ".)", '."', "!)", "?)")
_DEFINITION = re.compile(r"^\s{0,3}[:~][ \t]+(\S.*)$")
_NOT_A_TERM = re.compile(r"^\s*(?:#|[-*+>|]|\d+[.)]\s|[:~][ \t])")
_BASE64 = r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/=]+"
_DATA_IMAGE = re.compile(rf"!\[([^\]]*)\]\(\s*<?{_BASE64}>?(?:\s+\"[^\"]*\")?\s*\)")
_DATA_URI = re.compile(_BASE64)
_LAID_OUT = re.compile(r"[^\s.!?:;] {2,}\S|^[-=+|:_*~#\s]+$")  # columns aligned by spaces (not "end.  Next"), a rule


@dataclass(frozen=True)
class Dropped:
    """Embedded data URIs removed from a text: how many, and their characters in all."""

    count: int = 0
    characters: int = 0


def drop_data_uris(text: str) -> tuple[str, Dropped]:
    """``text`` without base64 ``data:`` URIs; a Markdown picture made of one keeps its alt text.

    A picture's bytes are no knowledge a language model can learn, and one URI is
    thousands of characters with no seam to cut at.
    """
    removed: list[int] = []

    def image(match: re.Match[str]) -> str:
        removed.append(len(match.group(0)))
        return match.group(1)

    def uri(match: re.Match[str]) -> str:
        removed.append(len(match.group(0)))
        return ""

    text = _DATA_URI.sub(uri, _DATA_IMAGE.sub(image, text))
    return text, Dropped(len(removed), sum(removed))


def join_soft_wraps(text: str) -> str:
    """``text`` with each Markdown paragraph on one line: a soft line break inside it becomes one space.

    CommonMark renders a line break inside a paragraph as a space, so a paragraph hard-wrapped at
    70 columns and the same paragraph on one line say the same; a model trained on the wrapped one
    learns to break lines mid-sentence (issue 16: trained answers such as "a small,\\nnonmigratory,
    North American passerine", copied from a qna.yaml block scalar) and sees the fact's words in a
    different token sequence than in its other forms. A hard break (two trailing spaces or a
    backslash) stays a line break; list markers, block quotes, headings, tables, code and blank
    lines keep their lines, and so does a paragraph laid out in columns or rules, which plain text
    and reStructuredText use for tables (a line with a run of two spaces inside it, or of rule
    characters only: ``==== ====``, ``+---+``). The paragraphs are markdown-it-py's
    (``paragraph_open`` and the ``inline`` content that follows it, container markers removed).
    """
    if "\n" not in text.strip():
        return text
    tokens = _block_tokens(text)
    lines: list[str | None] = list(text.split("\n"))
    for index, token in enumerate(tokens):
        if token.type != "paragraph_open" or not token.map or token.map[1] - token.map[0] < 2:
            continue
        start, end = token.map
        content = tokens[index + 1].content.split("\n")
        if any(_LAID_OUT.search(line.strip()) for line in content):
            continue
        first = lines[start]
        if first is None or (at := first.find(content[0])) < 0:
            continue
        joined = content[0]
        for previous, line in pairwise(content):
            hard_break = previous.endswith(("  ", "\\"))
            joined = joined + "\n" + line if hard_break else joined.rstrip() + " " + line.strip()
        lines[start] = first[:at] + joined
        for line_index in range(start + 1, end):
            lines[line_index] = None
    return "\n".join(line for line in lines if line is not None)


def table_line_ranges(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` line numbers (0-based, lines of ``text.split("\\n")``) of every Markdown pipe table.

    The first two lines of a range are the header row and the delimiter row.
    """
    if "|" not in text:
        return []
    return [(token.map[0], token.map[1]) for token in _block_tokens(text) if token.type == "table_open" and token.map]


@lru_cache(maxsize=512)
def structures_to_text(text: str) -> str:
    """``text`` with every table row and definition as a line of its own (a paragraph: blank lines around it).

    Pipe tables and HTML tables: one line per body row, ``Heading — Header: value; Header: value.``
    (the heading is the nearest one above the table, when there is one; empty cells are left out).
    Definition lists: ``Term: definition.`` Lists of fragments (items that are no sentences): one
    statement ``Lead-in: item; item.`` when a line ending in ``:`` introduces the list, else one
    ``Heading — item.`` per item; list items that are sentences already, and everything else, are
    returned as they were.
    """
    # markdown-it parses a 5 KB chunk in ~4 ms, 10x the rest of strip_markdown: only texts with a "|" pay
    # it, and the checks that reduce the same chunk once per generated row hit the cache
    if "<table" in text.lower():
        text = _html_tables(text)
    if "|" in text:
        text = _pipe_tables(text)
    text = _definitions(text)
    return _lists(text)


def row_sentence(context: str, headers: list[str], cells: list[str]) -> str:
    """One table row as a statement: ``context — header: value; ...`` ending in a full stop."""
    pairs = [
        f"{header}: {cell}" if header and header != cell else cell
        for header, cell in zip(headers, cells, strict=False)
        if cell
    ]
    pairs += [cell for cell in cells[len(headers) :] if cell]
    if not pairs:
        return ""
    body = "; ".join(pairs)
    sentence = f"{context} — {body}" if context else body
    return sentence if sentence[-1] in ".!?" else f"{sentence}."


@lru_cache(maxsize=4)
def _block_tokens(text: str) -> tuple[Token, ...]:
    """markdown-it-py's tokens of ``text``, parsed once for its paragraphs and its table ranges."""
    return tuple(_markdown().parse(text))


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _pipe_tables(text: str) -> str:
    tokens = _markdown().parse(text)
    lines = text.split("\n")
    replaced: dict[int, tuple[int, list[str]]] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type != "table_open" or not token.map:
            index += 1
            continue
        rows: list[tuple[bool, list[str]]] = []
        while tokens[index].type != "table_close":
            kind = tokens[index].type
            if kind == "tr_open":
                rows.append((False, []))
            elif kind == "th_open" and rows:
                rows[-1] = (True, rows[-1][1])
            elif kind == "inline" and rows:
                rows[-1][1].append(tokens[index].content.strip())
            index += 1
        start, end = token.map
        replaced[start] = (end, _rows_text(_heading_above(lines, start), rows))
    if not replaced:
        return text
    out: list[str] = []
    line = 0
    while line < len(lines):
        if line in replaced:
            end, sentences = replaced[line]
            out.extend(["", *_paragraphs(sentences), ""])
            line = end
        else:
            out.append(lines[line])
            line += 1
    return "\n".join(out)


def _rows_text(context: str, rows: list[tuple[bool, list[str]]]) -> list[str]:
    headers = rows[0][1] if rows and rows[0][0] else []
    body = rows[1:] if headers else rows
    return [sentence for _, cells in body if (sentence := row_sentence(context, headers, cells))]


def _paragraphs(sentences: list[str]) -> list[str]:
    out: list[str] = []
    for sentence in sentences:
        out.extend([sentence, ""])
    return out[:-1]


def _heading_above(lines: list[str], start: int) -> str:
    for line in reversed(lines[:start]):
        match = _HEADING.match(line)
        if match:
            return match.group(1).strip()
    return ""


class _TableParser(HTMLParser):
    """Rows of an HTML table as (all cells are ``th``, cell texts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[bool, list[str]]] = []
        self._cell: list[str] | None = None
        self._header_row = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append((True, []))
        elif tag in ("td", "th"):
            if not self.rows:
                self.rows.append((True, []))
            if tag == "td":
                self.rows[-1] = (False, self.rows[-1][1])
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        parser = _TableParser()
        parser.feed(match.group(0))
        parser.close()
        rows = [(is_header, cells) for is_header, cells in parser.rows if cells]
        context = _heading_above(text[: match.start()].split("\n"), len(text[: match.start()].split("\n")))
        return "\n\n" + "\n\n".join(_rows_text(context, rows)) + "\n\n"

    return _HTML_TABLE.sub(replace, text)


def _definitions(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    term: str | None = None
    term_at = -1
    for line in lines:
        match = _DEFINITION.match(line)
        if match:
            if term is None:
                term, term_at = _term_before(out)
            if term is not None:
                if term_at >= 0:
                    del out[term_at:]
                    term_at = -1
                definition = match.group(1).strip()
                end = "" if definition[-1:] in ".!?" else "."
                out.extend(["", f"{term}: {definition}{end}"])
                continue
        elif line.strip():
            if term is not None and not line.startswith((" ", "\t")):
                term = None  # a new paragraph or term: the list (or this term's definitions) ended
            out.append(line)
            continue
        out.append(line)
    return "\n".join(out)


def _term_before(out: list[str]) -> tuple[str | None, int]:
    """The term a ``: definition`` line defines: the line before it (one blank line between is allowed).

    Returns the term and where it starts in ``out`` (to remove it), or None when the line above is not a term.
    """
    at = len(out) - 1
    if at >= 0 and not out[at].strip():
        at -= 1
    if at < 0 or not out[at].strip() or _NOT_A_TERM.match(out[at]):
        return None, -1
    if at > 0 and out[at - 1].strip():
        return None, -1  # the last line of a paragraph, not a term of its own
    return out[at].strip(), at


def _lists(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        if not _LIST_ITEM.match(lines[index]):
            out.append(lines[index])
            index += 1
            continue
        items: list[str] = []
        start = index
        while index < len(lines):
            line = lines[index]
            item = _LIST_ITEM.match(line)
            if item:
                items.append(item.group(1).strip())
            elif line.strip() and line[:1] in (" ", "\t") and items:
                items[-1] = f"{items[-1]} {line.strip()}"  # a continuation line of the item
            elif not line.strip() and index + 1 < len(lines) and _same_list(lines[index + 1], lines[start]):
                pass  # a loose list: blank lines between items
            else:
                break
            index += 1
        out.extend(_list_text(out, items))
    return "\n".join(out)


def _same_list(line: str, first: str) -> bool:
    """``line`` is an item of the list that ``first`` opened: the same kind of marker (bullet or number)."""
    return bool(_LIST_ITEM.match(line)) and line.lstrip()[:1].isdigit() == first.lstrip()[:1].isdigit()


def _list_text(before: list[str], items: list[str]) -> list[str]:
    """A list as lines: unchanged when every item is a sentence, else statements (see :func:`structures_to_text`).

    A lead-in line directly above (one blank line between is allowed) is taken out of ``before``.
    """
    if all(item.endswith(_SENTENCE_END) for item in items):
        return [f"- {item}" for item in items]
    at = len(before) - 1
    if at >= 0 and not before[at].strip():
        at -= 1
    lead = before[at].strip() if at >= 0 else ""
    if lead.endswith(":") and not _HEADING.match(lead) and not _LIST_ITEM.match(lead):
        del before[at:]
        joined = "; ".join(item.rstrip(".;,") for item in items)
        return ["", f"{lead} {joined}.", ""]
    context = _heading_above(before, len(before))
    lines = [""]
    for item in items:
        if item.endswith(_SENTENCE_END):
            lines.extend([item, ""])
        else:
            lines.extend([f"{context} — {item}." if context else f"{item}.", ""])
    return lines
