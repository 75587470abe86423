"""Split a document into chunks that fit a token budget, cutting only where the text has a seam.

Seams, from strongest to weakest: blank lines (paragraphs), line breaks,
sentence ends, spaces between words, and (for a single giant "word") any
character. The text is cut into the smallest pieces needed, each measured once
with the caller's token counter, then packed greedily; every chunk is checked
with the counter, so no chunk exceeds ``max_tokens`` whatever the tokenizer.
Consecutive chunks share up to ``overlap_tokens`` of trailing pieces, so a
fact cut at a chunk border is whole in at least one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]

_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


@dataclass(frozen=True)
class _Piece:
    text: str
    sep: str  # what goes between the previous piece and this one
    tokens: int


def chunk_text(text: str, *, max_tokens: int, overlap_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Chunks of ``text``, each at most ``max_tokens`` by ``count_tokens``, overlapping by up to ``overlap_tokens``."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    pieces = _pieces(text, max_tokens, count_tokens)
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
    return chunks


def _pack(pieces: list[_Piece], start: int, max_tokens: int) -> int:
    """End index of the longest run from ``start`` whose summed token counts fit (at least one piece)."""
    total = pieces[start].tokens
    end = start + 1
    while end < len(pieces) and total + pieces[end].tokens <= max_tokens:
        total += pieces[end].tokens
        end += 1
    return end


def _overlap_start(pieces: list[_Piece], start: int, end: int, overlap: int, max_tokens: int) -> int:
    """Where the next chunk starts: the trailing pieces of this one worth at most ``overlap`` tokens.

    Always after ``start`` (progress), and leaving room for the next new piece.
    """
    room = max_tokens - pieces[end].tokens
    budget = min(overlap, room)
    begin, used = end, 0
    while begin - 1 > start and used + pieces[begin - 1].tokens <= budget:
        begin -= 1
        used += pieces[begin].tokens
    return begin


def _join(pieces: list[_Piece], start: int, end: int) -> str:
    first = pieces[start].text
    return first + "".join(p.sep + p.text for p in pieces[start + 1 : end])


def _pieces(text: str, max_tokens: int, count: TokenCounter) -> list[_Piece]:
    pieces: list[_Piece] = []
    for paragraph in _PARAGRAPHS.split(text.strip()):
        line_sep = "\n\n"
        for raw_line in paragraph.split("\n"):
            line = raw_line.rstrip()
            if not line.strip():
                continue
            sentence_sep = line_sep
            for sentence in _SENTENCE_END.split(line):
                if sentence:
                    pieces.extend(_fit(sentence, sentence_sep, max_tokens, count))
                    sentence_sep = " "
            line_sep = "\n"
    return pieces


def _fit(text: str, sep: str, max_tokens: int, count: TokenCounter) -> list[_Piece]:
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
                pieces.extend(_fit(" ".join(group), sep if not pieces else " ", max_tokens, count))
                group = [word]
            else:
                group.append(word)
        pieces.extend(_fit(" ".join(group), sep if not pieces else " ", max_tokens, count))
        return pieces
    return _split_chars(text, sep, max_tokens, count)


def _split_chars(text: str, sep: str, max_tokens: int, count: TokenCounter) -> list[_Piece]:
    pieces: list[_Piece] = []
    rest = text
    while rest:
        low, high = 1, len(rest)
        while low < high:  # longest prefix that fits (at least one character)
            mid = (low + high + 1) // 2
            if count(rest[:mid]) <= max_tokens:
                low = mid
            else:
                high = mid - 1
        piece = rest[:low]
        pieces.append(_Piece(piece, sep if not pieces else "", count(piece)))
        rest = rest[low:]
    return pieces
