"""What generation hands over, per leaf, and the files it writes (the layout, :mod:`taxolab.datarun`, mixing reads).

generated/<leaf>.jsonl   kept rows (dataset_type, question, answer, document, leaf; answer-first rows
                         also span and span_id), raw teacher outputs under ``_raw``
heldout/<leaf>.jsonl     held-out closed-book pairs (question, answer = source span, leaf, span_id)
test/<leaf>.jsonl        teacher multiple-choice questions (question, choices, answer index, leaf, source)
passages/<leaf>.jsonl    the document's chunks as plain text (text, leaf, index)
dropped/<leaf>.jsonl     rows a block refused (reason, block, row with ``_raw``), for ``data show --dropped``

Generation never mixes: :func:`taxolab.mixing.build_training_sets` turns these
folders into training sets, for ``data generate`` and ``taxolab run`` alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.datarun import DROPPED, GENERATED, HELDOUT, PASSAGES, TEST, DataRun

INTERNAL_COLUMNS = {"seed_pool"}


@dataclass
class LeafRows:
    """One leaf's generation result: kept rows, held-out pairs, test questions, passages and drops."""

    leaf: str
    rows: list[dict[str, Any]]
    heldout: list[dict[str, Any]] = field(default_factory=list)
    tests: list[dict[str, Any]] | None = None
    passages: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


def public_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in INTERNAL_COLUMNS} for row in rows]


def test_questions(rows: list[dict[str, Any]], leaf: str) -> list[dict[str, Any]]:
    """The teacher's multiple-choice rows with four choices, as ``test/<leaf>.jsonl`` rows (source "teacher")."""
    return [
        {
            "question": row["question"],
            "choices": list(row["choices"]),
            "answer": int(row["answer"]),
            "leaf": leaf,
            "source": "teacher",
        }
        for row in rows
        if len(row.get("choices") or []) == 4
    ]


def write_leaf(folder: Path, result: LeafRows) -> None:
    """Write one leaf's files under ``folder`` (atomically, each file whole or not at all)."""
    name, run = result.leaf, DataRun(folder)
    fsio.write_jsonl(run.leaf_file(GENERATED, name), public_rows(result.rows))
    rejected = [{**entry, "row": public_rows([entry.get("row") or {}])[0]} for entry in result.rejected]
    fsio.write_jsonl(run.leaf_file(DROPPED, name), rejected)
    if result.heldout:
        fsio.write_jsonl(run.leaf_file(HELDOUT, name), result.heldout)
    if result.passages:
        fsio.write_jsonl(run.leaf_file(PASSAGES, name), result.passages)
    if result.tests is not None:
        fsio.write_jsonl(run.leaf_file(TEST, name), result.tests)
