"""The dev/test split of a run's held-out questions: dev chooses checkpoints, test is reported.

Choosing a checkpoint by its score on the questions that are then reported
as the trained model's score overstates it (the choice was fitted to those
questions). So the mix step divides every knowledge leaf's held-out pairs
(``heldout/<leaf>.jsonl``) and multiple-choice test questions
(``test/<leaf>.jsonl``) into two disjoint parts:

- ``dev/heldout/<leaf>.jsonl`` and ``dev/test/<leaf>.jsonl``: the *dev* split,
  read only by checkpoint selection (training);
- ``heldout/<leaf>.jsonl`` and ``test/<leaf>.jsonl``: the *test* split, read only
  by evaluation (the report).

``dev/`` is laid out like a data run, so the benchmarks read it unchanged. A
question's split is a pure function of ``(seed, its normalised text)``: the
same question lands in the same split on every rerun and in every leaf, and
a held-out pair and the multiple-choice question built from it (same
question text) always share a split. Neither split reaches a training file
(the mix removes held-out questions from training before this runs).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from taxolab import fsio
from taxolab.datarun import DataRun
from taxolab.text import normalize

Split = Literal["dev", "test"]


def split_of(question: str, *, seed: int, dev_fraction: float) -> Split:
    """``"dev"`` for about ``dev_fraction`` of questions, else ``"test"``; fixed by ``seed`` and the question text.

    The question is normalised (:func:`taxolab.sdg.spans.normalize`) and hashed
    with the seed (SHA-256); the first 8 bytes as a fraction of 2**64 below
    ``dev_fraction`` mean dev. ``dev_fraction`` 0 puts everything in test.
    """
    digest = hashlib.sha256(f"{seed}\x1f{normalize(question)}".encode()).digest()
    return "dev" if int.from_bytes(digest[:8], "big") / 2**64 < dev_fraction else "test"


def split_rows(
    rows: list[dict[str, Any]], *, seed: int, dev_fraction: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(dev rows, test rows) of rows with a ``question``, order kept."""
    dev: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    for row in rows:
        (dev if split_of(str(row["question"]), seed=seed, dev_fraction=dev_fraction) == "dev" else test).append(row)
    return dev, test


def read_unsplit(out_dir: Path, part: str, leaf: str) -> list[dict[str, Any]]:
    """A leaf's rows of ``part`` (``heldout`` or ``test``) from both splits, as if never split (a re-mix reads this)."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    run = DataRun(Path(out_dir))
    for path in (run.leaf_file(part, leaf), run.dev_file(part, leaf)):
        for row in fsio.read_jsonl(path) if path.is_file() else []:
            key = normalize(str(row.get("question") or ""))
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def write_split(
    out_dir: Path, part: str, leaf: str, rows: list[dict[str, Any]], *, seed: int, dev_fraction: float
) -> tuple[int, int]:
    """Write ``rows`` as the leaf's dev and test files of ``part``; returns (dev count, test count).

    An empty side's file is removed, so a reader never finds stale questions.
    """
    dev, test = split_rows(rows, seed=seed, dev_fraction=dev_fraction)
    run = DataRun(Path(out_dir))
    for path, chosen in ((run.dev_file(part, leaf), dev), (run.leaf_file(part, leaf), test)):
        if chosen:
            fsio.write_jsonl(path, chosen)
        else:
            path.unlink(missing_ok=True)
    return len(dev), len(test)
