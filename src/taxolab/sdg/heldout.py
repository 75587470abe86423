"""Held-out knowledge questions: one phrasing per source span, kept out of training (issue 11).

Evaluation must ask questions the model never saw. For each answer span with
at least two distinct valid phrasings, one phrasing (chosen reproducibly from
``generate.seed``, the leaf and the span) becomes a held-out closed-book pair
``{"question", "answer" (the span), "leaf", "span_id"}`` (and ``answer_original``, the
document's text where the answer names a pronoun's referent: :mod:`taxolab.sdg.referents`); the others stay
training rows. Any training row whose question is the same text as a held-out
one (compared by :func:`taxolab.sdg.spans.normalize`) is removed as well, so no
held-out question reaches a training file by another span's door. Spans are
grouped by their document text, so a span repeated in two overlapping chunks is one span.
"""

from __future__ import annotations

import random
from typing import Any

from taxolab.text import normalize

Row = dict[str, Any]


def split_heldout(rows: list[Row], *, seed: int, leaf: str) -> tuple[list[Row], list[Row]]:
    """``rows`` -> (training rows, held-out pairs); rows without a ``span_id`` are always training rows.

    Order is kept; duplicate phrasings of one span (same normalised question)
    count once when deciding whether a span has two phrasings.
    """
    groups: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if row.get("span_id") is not None and row.get("question"):
            source = row.get("answer_original") or row.get("span") or row["answer"]
            groups.setdefault(normalize(str(source)), []).append(index)
    held_questions: set[str] = set()
    heldout: list[Row] = []
    for key, members in groups.items():
        distinct: dict[str, int] = {}
        for index in members:
            distinct.setdefault(normalize(str(rows[index]["question"])), index)
        if len(distinct) < 2:
            continue
        rng = random.Random(f"{seed}:{leaf}:{key}")
        chosen = sorted(distinct)[rng.randrange(len(distinct))]
        row = rows[distinct[chosen]]
        held_questions.add(chosen)
        pair = {"question": row["question"], "answer": row["answer"], "leaf": leaf, "span_id": str(row["span_id"])}
        if row.get("answer_original"):
            pair["answer_original"] = row["answer_original"]
        heldout.append(pair)
    training = [row for row in rows if normalize(str(row.get("question") or "")) not in held_questions]
    return training, heldout
