"""Document text -> plain sentences -> answer spans, and the normal form questions are compared in.

Answer-first generation (instruction backtranslation, Li et al. 2023) takes
its answers from the document itself, so they are true by construction; this
module decides what one answer is. A span is one sentence, or two when the
first is short (under :data:`MIN_SPAN_WORDS` words: "They lay 6-8 eggs." says
little alone), after the Markdown that knowledge documents carry (wiki links
``[text](target "wikilink")``, emphasis, headings, list markers) is reduced
to its text.
"""

from __future__ import annotations

import re

from taxolab.documents.markup import structures_to_text

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
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_TABLE = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^[\s|:+-]*$")
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "mt", "no", "fig", "approx", "ca", "c", "jr",
    "sr", "inc", "ltd", "co", "u.s", "u.k", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec",
}  # fmt: skip
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|(?:(?<=[。！？])|(?<=[。！？][」』）]))(?![」』）])\s*(?=\S)"
)
_CLOSING = ".!?\"')。！？」』）"
"""Characters that end a sentence (or close one), Latin and CJK."""
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Words of ``text``: whitespace-separated words, and one per two CJK characters (written without spaces)."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub("", text).split()) + (cjk + 1) // 2


def strip_markdown(text: str) -> str:
    """Markdown -> plain text: links and images to their text, emphasis and HTML tags removed.

    Table rows (Markdown and HTML) and definitions become statements of their own
    (:func:`taxolab.documents.markup.structures_to_text`): a fact in a table is a fact.
    Headings and horizontal rules become blank lines (they are not sentences);
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
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Plain text -> sentences, in order; abbreviations ("e.g.", "Dr.") and initials ("J. Brisson") do not end one."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        paragraph = " ".join(block.split())
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            before = paragraph[start : match.start()].rstrip("\"')]")
            last = before.rsplit(" ", 1)[-1].rstrip(".").lower()
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
            sentences.append(paragraph[start : match.start()].strip())
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return [sentence for sentence in sentences if sentence]


def document_spans(text: str, *, min_words: int = MIN_SPAN_WORDS, min_keep: int = MIN_KEEP_WORDS) -> list[str]:
    """A document chunk (Markdown) -> answer spans: sentences, a short one merged with its neighbour.

    Merging stays inside a paragraph and joins at most two sentences; a short
    last sentence joins the one before it. Spans under ``min_keep`` words
    after merging are left out, and so are the pieces of a sentence cut by the
    chunk's start (begins in lower case) or end (no closing punctuation).
    """
    paragraphs = [split_sentences(paragraph) for paragraph in strip_markdown(text).split("\n\n")]
    paragraphs = [sentences for sentences in paragraphs if sentences]
    # a chunk cut mid-sentence: its first and last pieces are whole in the neighbouring chunk
    if paragraphs and paragraphs[0][0][:1].islower():
        paragraphs[0] = paragraphs[0][1:]
    if paragraphs and paragraphs[-1] and paragraphs[-1][-1][-1:] not in _CLOSING:
        paragraphs[-1] = paragraphs[-1][:-1]
    spans: list[str] = []
    for sentences in paragraphs:
        spans.extend(_paragraph_spans(sentences, min_words))
    return [span for span in spans if word_count(span) >= min_keep]


def _paragraph_spans(sentences: list[str], min_words: int) -> list[str]:
    spans: list[str] = []
    merged: list[bool] = []
    pending: str | None = None
    for sentence in sentences:
        if pending is not None:
            spans.append(f"{pending} {sentence}")
            merged.append(True)
            pending = None
        elif word_count(sentence) < min_words:
            pending = sentence
        else:
            spans.append(sentence)
            merged.append(False)
    if pending is not None:
        if spans and not merged[-1]:
            spans[-1] = f"{spans[-1]} {pending}"
        else:
            spans.append(pending)
    return spans


def normalize(text: str) -> str:
    """Lower case, letters and digits only (of any script), single spaces: "near-identical" texts compare equal."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())
