"""Split a document into chunks that fit a token budget, cutting only where the text has a seam.

Seams, from strongest to weakest: blank lines (paragraphs), line breaks between
blocks (a heading, a list item, a table row; a line break inside a paragraph is a
soft wrap, joined to a space first by :func:`taxolab.documents.markup.join_soft_wraps`,
so a chunk never starts inside a wrapped sentence -- issue 16, "YBP at Mehrgarh, ..."
cut from "... between 7,000 and 6,000\nYBP at Mehrgarh" -- and no chunk carries a wrap),
sentence ends (:func:`taxolab.documents.sentences.sentence_ends`: never inside a
name or after an abbreviation; also the full-width ones of Chinese and Japanese,
which no space follows), spaces between words, and (for a single giant "word") any
character. The text is cut into the smallest pieces needed, each measured once
with the caller's token counter, then packed greedily; every chunk is checked
with the counter, so no chunk exceeds ``max_tokens`` whatever the tokenizer or script.
A Markdown table is one piece with its header; a table too large for one chunk is cut
between rows, each part carrying the header row again, so no row travels without
the names of its columns.
Consecutive chunks share up to ``overlap_tokens`` of trailing pieces (with any overlap, at least the
last sentence), so a fact at a chunk border is whole in at least one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from taxolab.documents.markup import join_soft_wraps, table_line_ranges
from taxolab.documents.sentences import sentence_ends

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class _Piece:
    text: str
    sep: str  # what goes between the previous piece and this one
    tokens: int


@dataclass(frozen=True)
class Chunking:
    """The chunks of a text, and how often a span had to be cut between characters.

    ``hard_cuts`` counts cuts made where the text had no seam (no space, line or sentence
    end within ``max_tokens``: a picture's base64, a URL, a long run of a script written
    without spaces); the longest such span was ``longest_unbroken`` characters.
    """

    chunks: list[str]
    hard_cuts: int = 0
    longest_unbroken: int = 0


def chunk_text(text: str, *, max_tokens: int, overlap_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Chunks of ``text``, each at most ``max_tokens`` by ``count_tokens``, overlapping by up to ``overlap_tokens``."""
    return split_text(text, max_tokens=max_tokens, overlap_tokens=overlap_tokens, count_tokens=count_tokens).chunks


def split_text(text: str, *, max_tokens: int, overlap_tokens: int, count_tokens: TokenCounter) -> Chunking:
    """:func:`chunk_text` with the count of cuts made without a seam. Raises ValueError when ``max_tokens < 1``."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    cuts: list[tuple[int, int]] = []  # (characters of an unbroken span, cuts made in it)
    pieces = _pieces(text, max_tokens, count_tokens, cuts)
    chunks: list[str] = []
    start = 0
    while start < len(pieces):
        end = _pack(pieces, start, max_tokens)
        while end - start > 1 and count_tokens(_join(pieces, start, end)) > max_tokens:
            end -= 1
        chunks.append(_join(pieces, start, end))
        if end >= len(pieces):
            break
        start = _overlap_start(pieces, start, end, overlap_tokens, max_tokens)
    return Chunking(chunks, sum(n for _, n in cuts), max((length for length, _ in cuts), default=0))


def _pack(pieces: list[_Piece], start: int, max_tokens: int) -> int:
    """End index of the longest run from ``start`` whose summed token counts fit (at least one piece)."""
    total = pieces[start].tokens
    end = start + 1
    while end < len(pieces) and total + pieces[end].tokens <= max_tokens:
        total += pieces[end].tokens
        end += 1
    return end


def _overlap_start(pieces: list[_Piece], start: int, end: int, overlap: int, max_tokens: int) -> int:
    """Where the next chunk starts: the trailing pieces of this one worth at most ``overlap`` tokens, and with
    any overlap at all, at least the last piece (a sentence longer than ``overlap``) where it fits.

    A chunk's last sentence can look cut to its reader ("... to northeastern U.S." ends like an abbreviation,
    :func:`taxolab.sdg.spans.chunk_sentences` leaves it out), so it must open the next chunk whole.
    Always after ``start`` (progress), and leaving room for the next new piece.
    """
    room = max_tokens - pieces[end].tokens
    budget = min(overlap, room)
    begin, used = end, 0
    while begin - 1 > start and used + pieces[begin - 1].tokens <= budget:
        begin -= 1
        used += pieces[begin].tokens
    if overlap > 0 and begin == end and end - 1 > start and pieces[end - 1].tokens <= room:
        begin = end - 1
    return begin


def _join(pieces: list[_Piece], start: int, end: int) -> str:
    first = pieces[start].text
    return first + "".join(p.sep + p.text for p in pieces[start + 1 : end])


def _pieces(text: str, max_tokens: int, count: TokenCounter, cuts: list[tuple[int, int]]) -> list[_Piece]:
    # a paragraph's soft-wrapped lines are one run of text (its sentences may cross a line break): one line
    text = join_soft_wraps(text.strip())
    lines = text.split("\n")
    tables = dict(table_line_ranges(text))
    pieces: list[_Piece] = []
    line_sep = "\n\n"
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        if not line.strip():
            line_sep = "\n\n"
            index += 1
            continue
        if index in tables:
            end = tables[index]
            pieces.extend(_table(lines[index:end], line_sep, max_tokens, count, cuts))
            index = end
            line_sep = "\n"
            continue
        sentence_sep, start = line_sep, 0
        for stop, following in [*sentence_ends(line), (len(line), len(line))]:
            sentence = line[start:stop]
            if sentence.strip():
                pieces.extend(_fit(sentence, sentence_sep, max_tokens, count, cuts))
                sentence_sep = " " if line[stop:following] else ""
            start = following
        line_sep = "\n"
        index += 1
    return pieces


def _table(
    lines: list[str], sep: str, max_tokens: int, count: TokenCounter, cuts: list[tuple[int, int]]
) -> list[_Piece]:
    """A table as one piece, or as parts of whole rows that each repeat the header and delimiter rows."""
    lines = [line.rstrip() for line in lines if line.strip()]
    whole = "\n".join(lines)
    tokens = count(whole)
    if tokens <= max_tokens or len(lines) <= 3:
        return [_Piece(whole, sep, tokens)] if tokens <= max_tokens else _fit(whole, sep, max_tokens, count, cuts)
    header = lines[:2]
    pieces: list[_Piece] = []
    group: list[str] = []
    for row in lines[2:]:
        if group and count("\n".join([*header, *group, row])) > max_tokens:
            pieces.extend(_table_part(header, group, sep if not pieces else "\n", max_tokens, count, cuts=cuts))
            group = []
        group.append(row)
    pieces.extend(_table_part(header, group, sep if not pieces else "\n", max_tokens, count, cuts=cuts))
    return pieces


def _table_part(
    header: list[str], rows: list[str], sep: str, max_tokens: int, count: TokenCounter, *, cuts: list[tuple[int, int]]
) -> list[_Piece]:
    text = "\n".join([*header, *rows])
    tokens = count(text)
    if tokens <= max_tokens:
        return [_Piece(text, sep, tokens)]
    return _fit("\n".join(rows), sep, max_tokens, count, cuts)  # one row longer than a chunk: cut like any text


def _fit(text: str, sep: str, max_tokens: int, count: TokenCounter, cuts: list[tuple[int, int]]) -> list[_Piece]:
    """``text`` as one piece if it fits, else word groups, else character runs (for one giant word)."""
    tokens = count(text)
    if tokens <= max_tokens:
        return [_Piece(text, sep, tokens)]
    words = text.split()
    if len(words) > 1:
        pieces: list[_Piece] = []
        group: list[str] = []
        for word in words:
            candidate = " ".join([*group, word])
            if group and count(candidate) > max_tokens:
                pieces.extend(_fit(" ".join(group), sep if not pieces else " ", max_tokens, count, cuts))
                group = [word]
            else:
                group.append(word)
        pieces.extend(_fit(" ".join(group), sep if not pieces else " ", max_tokens, count, cuts))
        return pieces
    pieces = _split_chars(text, sep, max_tokens, count)
    cuts.append((len(text), len(pieces) - 1))
    return pieces


def _split_chars(text: str, sep: str, max_tokens: int, count: TokenCounter) -> list[_Piece]:
    """Runs of characters, each the longest prefix of the rest that fits (at least one character).

    The search gallops from ``max_tokens`` characters up before bisecting, so a 50 KB span costs
    a few dozen counts of budget-sized prefixes per piece, not counts of the whole span.
    """
    pieces: list[_Piece] = []
    rest = text
    while rest:
        low, high = 1, min(len(rest), max_tokens)
        while high < len(rest) and count(rest[:high]) <= max_tokens:
            low, high = high, min(len(rest), high * 2)
        if count(rest[:high]) <= max_tokens:
            low = high
        while low < high:
            mid = (low + high + 1) // 2
            if count(rest[:mid]) <= max_tokens:
                low = mid
            else:
                high = mid - 1
        piece = rest[:low]
        pieces.append(_Piece(piece, sep if not pieces else "", count(piece)))
        rest = rest[low:]
    return pieces
