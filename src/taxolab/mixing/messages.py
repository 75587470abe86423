"""Generated rows -> training samples in the messages format (what training reads).

Knowledge rows become two samples each, as LAB and RAFT suggest: the question
with its context (sometimes with an unrelated *distractor* chunk next to the
right one, in random order, so the student learns to find the passage that
matters) and the question alone (closed book, so the knowledge itself sticks).
Skill rows become one prompt-response sample; grounded skills put the context
before the request.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

SYSTEM_PROMPT = "You are a helpful, accurate assistant. Answer clearly and truthfully."
ROLES = {"system", "user", "assistant", "pretraining"}


def validate_sample(sample: Any) -> str | None:
    """Why ``sample`` is not a valid messages row, or None when it is."""
    if not isinstance(sample, dict) or not isinstance(sample.get("messages"), list) or not sample["messages"]:
        return "no messages list"
    for message in sample["messages"]:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return "a message without a known role"
        if not isinstance(message.get("content"), str) or not message["content"].strip():
            return "a message with empty content"
    if not any(message["role"] == "assistant" for message in sample["messages"]):
        return "no assistant message"
    return None


def _sample(user: str, assistant: str, metadata: dict[str, Any], system: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user.strip()},
            {"role": "assistant", "content": assistant.strip()},
        ],
        "metadata": metadata,
    }


def knowledge_samples(
    rows: Iterable[dict[str, Any]],
    distractor_pool: list[str],
    *,
    distractor_ratio: float,
    rng: random.Random,
    system: str = SYSTEM_PROMPT,
) -> list[dict[str, Any]]:
    samples = []
    for row in rows:
        context = str(row["document"])
        meta = {"leaf": row.get("leaf"), "dataset_type": row.get("dataset_type"), "kind": "knowledge"}
        documents = [context]
        others = [chunk for chunk in distractor_pool if chunk not in (context, row.get("raw_document"))]
        if others and rng.random() < distractor_ratio:
            documents.append(rng.choice(others))
            rng.shuffle(documents)
        shown = "\n\n".join(f"Document {i + 1}:\n{text.strip()}" for i, text in enumerate(documents))
        user = f"Use the documents below to answer the question.\n\n{shown}\n\nQuestion: {row['question']}"
        style = "context_with_distractor" if len(documents) > 1 else "context"
        samples.append(_sample(user, row["answer"], {**meta, "sample_type": style}, system))
        samples.append(_sample(row["question"], row["answer"], {**meta, "sample_type": "closed_book"}, system))
    return samples


def skill_samples(rows: Iterable[dict[str, Any]], *, system: str = SYSTEM_PROMPT) -> list[dict[str, Any]]:
    samples = []
    for row in rows:
        context = row.get("context")
        user = f"{context.strip()}\n\n{row['question']}" if context else str(row["question"])
        kind = "grounded_skill" if context else "freeform_skill"
        samples.append(_sample(user, row["answer"], {"leaf": row.get("leaf"), "kind": kind}, system))
    return samples
