"""Where sentences end in plain text: the one rule set for the chunker's seams and the answer spans.

A sentence never ends inside a name, an abbreviation or a number (issue 16: answers
cut as "243-49 is HLX-1, ..." or "..., lit."). Used by :mod:`taxolab.documents.chunk`
(its sentence seams) and :mod:`taxolab.sdg.spans` (answer spans).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "viz", "al", "lit", "mr", "mrs", "ms", "dr", "prof", "st", "mt", "ft", "no",
    "nos", "fig", "figs", "pp", "p", "vol", "vols", "ed", "eds", "ch", "sec", "approx", "ca", "c", "jr", "sr", "inc",
    "ltd", "co", "corp", "gen", "col", "lt", "sgt", "capt", "rev", "hon", "gov", "sen", "rep", "pres", "ave", "u.s",
    "u.k", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "est", "var",
    "subsp", "sp", "spp", "cv", "op", "arr",
}  # fmt: skip
"""Words that a period after does not end a sentence when the next word may start one ("St. Louis", "Fig. 3",
"c. 1600", "lit. 'the phoenix'"). Single letters (initials: "J. R. R. Tolkien") and words with inner periods
("U.S.", "Ph.D.") are abbreviations too."""
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?P<close>[\"'’”)\]]*)\s+(?=[\"'‘“(\[]?[^\s\"'‘“(\[])"
    r"|(?<=[。！？])(?P<cjk_close>[」』）]*)\s*(?=\S)|(?<=[।॥؟۔])\s+"
)
"""Candidate sentence ends: Latin ``.!?`` (then closing quotes or brackets) and a space; CJK ``。！？`` (then
closing brackets), with or without a space; the Devanagari danda and the Arabic question mark and full stop.
:func:`sentence_ends` keeps a Latin candidate only where the next word starts in upper case or in a script
without case (a digit too), and the word before is no abbreviation."""


def sentence_ends(text: str) -> Iterator[tuple[int, int]]:
    """``(end, next start)`` of each sentence end in ``text`` (one paragraph): the sentence is
    ``text[start:end]`` with its closing quotes and brackets, the whitespace up to ``next start`` is between.

    A sentence never ends inside a name, an abbreviation or a number: after ``.``/``!``/``?`` the next word
    must start with an upper-case letter, a letter of a script without case (Arabic, CJK, Devanagari) or a
    digit, and the word before the period must not be an abbreviation (:data:`_ABBREVIATIONS`, an initial,
    "U.S."); "13.05", "ESO 243-49", "lit. 'the phoenix'", "c. 1600", "J. R. R. Tolkien", "Émile" and
    "Москва" stay whole. CJK sentences end at ``。！？`` with or without a following space.

    Own rules rather than a library, measured with ``bench/bench_sentence_split.py`` on the 32 cases of
    ``tests/sdg/test_sentences.py`` (2026-12-04): these rules 32/32; sentencex 1.0.32 30/32 (cuts after
    "lit." and "approx."), syntok 1.4.4 29/32 (joins "4.96. Lying", Devanagari and 「...。」 sentences),
    pysbd 0.3.4 27/32 (cuts after "c.", "approx." and "lit."); nltk's punkt needs a model download. The whole
    chickadee document splits in about 6 ms.
    """
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group("close") or match.group("cjk_close") or "")
        if _ends_sentence(text, start, match.start(), match.end()):
            yield end, match.end()
            start = match.end()


def split_sentences(text: str) -> list[str]:
    """Plain text -> sentences, in order (rules: :func:`sentence_ends`); blank lines end one too, and
    whitespace inside a paragraph becomes single spaces."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        paragraph = " ".join(block.split())
        start = 0
        for end, following in sentence_ends(paragraph):
            sentences.append(paragraph[start:end].strip())
            start = following
        sentences.append(paragraph[start:].strip())
    return [sentence for sentence in sentences if sentence]


def _ends_sentence(text: str, start: int, mark: int, following: int) -> bool:
    """Whether a candidate end (its mark just before ``mark``) is one: the Latin rules; CJK and Indic ends are."""
    if text[mark - 1] not in ".!?":
        return True
    first = text[following:].lstrip("\"'‘“([")[:1]
    if not first or not (first.isdigit() or (first.isalpha() and not first.islower())):
        return False
    return text[mark - 1] != "." or not ends_in_abbreviation(text[start:mark])


def ends_in_abbreviation(text: str) -> bool:
    """Whether the period ending ``text`` closes an abbreviation ("lit.", "c.", "J.", "U.S.") rather than a sentence."""
    last = text.rstrip("\"'’”)]").rsplit(" ", 1)[-1].rstrip(".").lstrip("\"'‘“([").lower()
    if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
        return True
    return bool(re.fullmatch(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}", last))  # U.S., Ph.D., a.m.
