"""How much work each stage of ``taxolab run`` did, so the run can say where its time went.

Each counter reads what its stage recorded (the stage's outputs and the files
they name) and returns the amount of work in the stage's own unit:

============  ==========  ==============================================================
stage         unit        counted from
============  ==========  ==============================================================
generate      tokens      the teacher's completion tokens (``teacher_tokens`` of the
                          leaf's ``generation.json``, from the servers' usage counts)
train         tokens      every trained token of every phase (``tokens`` per step in
                          each phase's ``metrics.jsonl``, padding excluded)
evaluate      questions   questions scored, once per model that answered them (base
                          and trained each count), from ``results.json``
============  ==========  ==============================================================

The stage runner divides the amount by the stage's wall time
(:class:`taxolab.workflow.stages.StageRunner`), so the rate includes
everything the stage waited on (server start, tokenisation, checkpoints):
the throughput a user gets, not a kernel's peak.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.training.metrics import read_metrics


@dataclass(frozen=True)
class Work:
    """An amount of work in ``unit`` (``tokens`` or ``questions``)."""

    amount: float
    unit: str

    def rate(self, seconds: float) -> dict[str, Any]:
        """The JSON kept in ``run.json``: amount, unit, wall seconds and ``per_second`` (None for 0 s)."""
        per_second = round(self.amount / seconds, 2) if seconds > 0 else None
        return {"amount": self.amount, "unit": self.unit, "seconds": round(seconds, 2), "per_second": per_second}


WorkCounter = Callable[[dict[str, Any]], Work | None]
"""Reads a finished stage's outputs; None when the stage left nothing to count."""


def generated_tokens(outputs: dict[str, Any]) -> Work | None:
    """The teacher's completion tokens for one leaf (``generate:<leaf>``)."""
    from taxolab.sdg.runs import read_manifest

    folder = outputs.get("folder")
    manifest = read_manifest(Path(folder)) if folder and Path(folder).is_dir() else None
    if manifest is None:
        return None
    tokens = manifest.get("teacher_tokens") or {}
    return Work(float(sum(int(count) for count in tokens.values())), "tokens")


def trained_tokens(outputs: dict[str, Any]) -> Work | None:
    """Tokens trained in every phase of the ``train`` stage (each epoch counts again)."""
    files = [Path(phase["metrics_file"]) for phase in outputs.get("phases", []) if phase.get("metrics_file")]
    if not files:
        return None
    return Work(float(sum(row.get("tokens", 0) for path in files for row in read_metrics(path))), "tokens")


def evaluated_questions(outputs: dict[str, Any]) -> Work | None:
    """Questions scored by the ``evaluate`` stage, counted once per model that answered them."""
    path = Path(outputs["results"]) if outputs.get("results") else None
    if path is None or not path.is_file():
        return None
    total = 0
    for result in _json(path).get("results", {}).values():
        for side in ("trained", "base"):
            scores = result.get(side) or {}
            total += sum(int(count) for count in (scores.get("counts") or {}).values())
    return Work(float(total), "questions")


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
