"""Document text -> plain sentences -> answer spans, and the normal form questions are compared in.

Answer-first generation (instruction backtranslation, Li et al. 2023) takes
its answers from the document itself, so they are true by construction; this
module decides what one answer is. A span is one sentence, or two when the
first is short (under :data:`MIN_SPAN_WORDS` words: "They lay 6-8 eggs." says
little alone), after the Markdown that knowledge documents carry (wiki links
``[text](target "wikilink")``, emphasis, headings, list markers) is reduced
to its text. A sentence never ends inside a name, an abbreviation or a number
(:func:`split_sentences`); a span that opens with a pronoun gets its referent named
in :mod:`taxolab.sdg.referents`.
"""

from __future__ import annotations

import re

from taxolab.documents.markup import structures_to_text
from taxolab.documents.sentences import ends_in_abbreviation, split_sentences
from taxolab.text import CJK

MIN_SPAN_WORDS = 8
"""A sentence shorter than this is merged with its neighbour (issue 11: "2 short sentences merged")."""
MIN_KEEP_WORDS = 4
"""Shorter spans (a caption, a stray fragment) are not answers."""

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_TAIL = re.compile(r"\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
"""The ``](target "title")`` left of a link whose ``[`` lies in the previous chunk."""
_OPEN_BRACKET = re.compile(r"\[(?=[^\]]*$)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1")
_HTML = re.compile(r"<[^>\n]+>")
_EMPTY_BRACKETS = re.compile(r"\s+\([\s,;:]*\)")
"""A bracket pair with nothing but separators in it, after a space: what a wiki export leaves where it lost a
formula or a name in another script ("the trisulfur radical anion () in the crystal", "Prince Leopold Island
(, ) is an island"; 5 documents of the Summit_knowledge bundle). ``f()`` (no space before) is kept."""
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_TABLE = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^[\s|:+-]*$")
_CLOSING = ".!?\"'’”)。！？」』）।॥؟۔"
"""Characters that end a sentence (or close one), Latin and CJK."""


def word_count(text: str) -> int:
    """Words of ``text``: whitespace-separated words, and one per two CJK characters (written without spaces)."""
    cjk = len(CJK.findall(text))
    return len(CJK.sub("", text).split()) + (cjk + 1) // 2


def strip_markdown(text: str) -> str:
    """Markdown -> plain text: links and images to their text, emphasis and HTML tags removed.

    Table rows (Markdown and HTML) and definitions become statements of their own
    (:func:`taxolab.documents.markup.structures_to_text`): a fact in a table is a fact.
    Empty brackets left where an export lost a formula or a non-Latin name ("anion () in", "Island (, ) is")
    are dropped. Headings and horizontal rules become blank lines (they are not sentences);
    paragraphs stay separated by a blank line; lines inside a paragraph are joined with spaces.
    """
    paragraphs: list[list[str]] = [[]]
    for raw in structures_to_text(text).splitlines():
        if not raw.strip() or _HEADING.match(raw) or _RULE.match(raw):
            paragraphs.append([])
            continue
        if _TABLE.match(raw):  # a row left of a broken table (no delimiter row): its cells, as one line
            cells = [cell.strip() for cell in raw.strip().strip("|").split("|")]
            if not _TABLE_RULE.match(raw):
                paragraphs.extend([["; ".join(cell for cell in cells if cell)], []])
            continue
        if _LIST.match(raw):
            paragraphs.append([])
        paragraphs[-1].append(_LIST.sub("", raw).strip())
    out = []
    for lines in paragraphs:
        joined = " ".join(lines)
        if joined:
            out.append(_inline(joined))
    return "\n\n".join(part for part in out if part)


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    for _ in range(2):  # links inside emphasis and emphasis inside links
        text = _LINK.sub(r"\1", text)
        text = _REF_LINK.sub(r"\1", text)
        text = _EMPHASIS.sub(r"\2", text)
    text = _LINK_TAIL.sub("", text)
    text = _OPEN_BRACKET.sub("", text)
    text = _HTML.sub("", text)
    text = _EMPTY_BRACKETS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def document_spans(text: str, *, min_words: int = MIN_SPAN_WORDS, min_keep: int = MIN_KEEP_WORDS) -> list[str]:
    """A document chunk (Markdown) -> answer spans: sentences, a short one merged with its neighbour.

    Merging stays inside a paragraph and joins at most two sentences; a short
    last sentence joins the one before it. Spans under ``min_keep`` words
    after merging are left out, and so are the pieces of a sentence cut by the
    chunk's start or end (:func:`chunk_sentences`).
    """
    spans: list[str] = []
    for sentences in chunk_sentences(text):
        spans.extend(paragraph_spans(sentences, min_words))
    return [span for span in spans if word_count(span) >= min_keep]


def chunk_sentences(text: str) -> list[list[str]]:
    """A document chunk (Markdown) -> its whole sentences, per paragraph (paragraphs without any left out).

    Chunks are cut between sentences and blocks (:mod:`taxolab.documents.chunk`),
    but a sentence longer than a chunk is cut between words, and a caller's text may
    start or end anywhere: such a piece is whole in the neighbouring chunk (chunks
    overlap) or in none, and is left out here. The last piece is cut when it has no
    closing punctuation or ends in an abbreviation (the chunker may cut after "lit."). The first piece is cut unless it opens the chunk's text
    after a heading, a list marker or a table, or looks like a sentence start:
    an upper-case letter, or, in text written mostly in a script without case
    (CJK, Arabic), any letter. A first piece that opens with a lower-case letter,
    a digit ("243-49 is HLX-1..." of "ESO 243-49") or a letter of a script
    without case inside Latin text ("العنقاء, romanized: ...") is cut.
    """
    paragraphs = [split_sentences(paragraph) for paragraph in strip_markdown(text).split("\n\n")]
    paragraphs = [sentences for sentences in paragraphs if sentences]
    if paragraphs and not _opens_block(text) and not _starts_sentence(paragraphs[0][0], text):
        paragraphs[0] = paragraphs[0][1:]
    if (
        paragraphs
        and paragraphs[-1]
        and (paragraphs[-1][-1][-1:] not in _CLOSING or ends_in_abbreviation(paragraphs[-1][-1]))
    ):
        paragraphs[-1] = paragraphs[-1][:-1]
    return [sentences for sentences in paragraphs if sentences]


def _opens_block(markdown: str) -> bool:
    """The chunk's first line is a heading, a list item or a table row: its text starts a block."""
    first = markdown.lstrip("\n").split("\n", 1)[0]
    return bool(_HEADING.match(first) or _LIST.match(first) or _TABLE.match(first))


def _starts_sentence(sentence: str, context: str) -> bool:
    first = sentence.lstrip("\"'‘“(¿¡[")[:1]
    if not first.isalpha():
        return False
    if first.isupper():
        return True
    if first.islower():
        return False
    letters = [char for char in context if char.isalpha()]
    cased = sum(1 for char in letters if char.isupper() or char.islower())
    return cased * 2 < len(letters)  # a script without case is the chunk's own script


def paragraph_spans(sentences: list[str], min_words: int = MIN_SPAN_WORDS) -> list[str]:
    """One paragraph's sentences -> spans: a sentence under ``min_words`` words is joined to its neighbour."""
    return [" ".join(sentences[index] for index in group) for group in span_groups(sentences, min_words)]


def span_groups(sentences: list[str], min_words: int = MIN_SPAN_WORDS) -> list[list[int]]:
    """Which sentences of a paragraph form each span (indices, in order; one or two, or three at the end)."""
    groups: list[list[int]] = []
    merged: list[bool] = []
    pending: int | None = None
    for index, sentence in enumerate(sentences):
        if pending is not None:
            groups.append([pending, index])
            merged.append(True)
            pending = None
        elif word_count(sentence) < min_words:
            pending = index
        else:
            groups.append([index])
            merged.append(False)
    if pending is not None:
        if groups and not merged[-1]:
            groups[-1].append(pending)
        else:
            groups.append([pending])
    return groups
