"""Sentence splitting: taxolab's rules against the sentence-splitting libraries that are installed.

Scores each splitter on the cases of tests/sdg/test_sentences.py (names, abbreviations, catalogue
numbers, decimals, initials, CJK, Cyrillic, Arabic, Devanagari; a case counts when every cut is
right) and times it on all cases repeated, as a ratio to taxolab's own rules measured in the same run.
Peers are those of pysbd, sentencex and syntok that import; the others are named as skipped
(install them into a scratch folder to compare: ``pip install --target /tmp/seg pysbd sentencex syntok``
and ``PYTHONPATH=/tmp/seg``).

    .venv/bin/python bench/bench_sentence_split.py [--repeat 20] [--show-misses]

Measured 2026-12-04 on the 2-core machine while six other engineers' jobs ran: taxolab 32/32,
sentencex 1.0.32 30/32 (cuts after "lit." and "approx."), syntok 1.4.4 29/32 (joins "4.96. Lying",
Devanagari and 「...。」 sentences), pysbd 0.3.4 27/32 (cuts after "c.", "approx." and "lit."); time
sentencex x0.1-0.5 (two runs), syntok x17, pysbd x40 of taxolab's. Time is not the deciding figure: taxolab splits
the whole chickadee document (204 sentences) in about 6 ms, once per chunk.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sdg.test_sentences import CASES

from taxolab.sdg.spans import split_sentences

Splitter = Callable[[str], list[str]]


def peers() -> tuple[dict[str, Splitter], list[str]]:
    """The installed peer libraries as splitters, and the names of those that are not installed."""
    found: dict[str, Splitter] = {}
    missing: list[str] = []
    for name in ("pysbd", "sentencex", "syntok"):
        try:
            module = importlib.import_module("syntok.segmenter" if name == "syntok" else name)
        except ImportError:
            missing.append(name)
            continue
        found[name] = _wrap(name, module)
    return found, missing


def _wrap(name: str, module: object) -> Splitter:
    if name == "pysbd":
        segmenter = module.Segmenter(language="en", clean=False)  # type: ignore[attr-defined]
        return lambda text: [s.strip() for s in segmenter.segment(text) if s.strip()]
    if name == "sentencex":
        return lambda text: [s.strip() for s in module.segment("en", text) if s.strip()]  # type: ignore[attr-defined]

    def syntok(text: str) -> list[str]:
        return [
            "".join(token.spacing + token.value for token in sentence).strip()
            for paragraph in module.analyze(text)  # type: ignore[attr-defined]
            for sentence in paragraph
        ]

    return syntok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="Times all cases are split for the timing.")
    parser.add_argument("--show-misses", action="store_true", help="Print each case a splitter gets wrong.")
    args = parser.parse_args()
    splitters: dict[str, Splitter] = {"taxolab": split_sentences}
    found, missing = peers()
    splitters.update(found)
    texts = [" ".join(case) for case in CASES]
    timings: dict[str, float] = {}
    for name, split in splitters.items():
        right = [split(text) == case for text, case in zip(texts, CASES, strict=True)]
        start = time.perf_counter()
        for _ in range(args.repeat):
            for text in texts:
                split(text)
        timings[name] = time.perf_counter() - start
        ratio = timings[name] / timings["taxolab"]
        print(f"{name:10} {sum(right):3d}/{len(CASES)} cases right   time x{ratio:.2f} of taxolab's")
        if args.show_misses:
            for text, case, ok in zip(texts, CASES, right, strict=True):
                if not ok:
                    print(f"    want {case}\n    got  {split(text)}")
    if missing:
        print(f"not installed (skipped): {', '.join(missing)}")


if __name__ == "__main__":
    main()
