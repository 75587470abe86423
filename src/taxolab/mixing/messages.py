"""Generated rows -> training samples in the messages format (what training reads).

Knowledge rows become two samples each, as LAB and RAFT suggest: the question
with its context (sometimes with an unrelated *distractor* chunk next to the
right one, in random order, so the student learns to find the passage that
matters) and the question alone (closed book, so the knowledge itself sticks).
Skill rows become one prompt-response sample; grounded skills put the context
before the request. A document's passages become ``pretraining`` samples (plain
text, every token trained), so the knowledge phase reads the document itself.
Every chat sample starts with the one system prompt (``mix.system_prompt``).

Each sample also records the questions it trains (``"questions"``,
:data:`taxolab.datarun.QUESTIONS_KEY`; empty for a passage), so evaluation
knows which questions the model has seen without reading the prompt text.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from taxolab.datarun import QUESTIONS_KEY
from taxolab.mixing.settings import DEFAULT_SYSTEM_PROMPT

SYSTEM_PROMPT: str = DEFAULT_SYSTEM_PROMPT
"""The default of ``mix.system_prompt``; mixing passes the configured one."""
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
    roles = {message["role"] for message in sample["messages"]}
    if "pretraining" in roles:
        return None if roles == {"pretraining"} else "a pretraining sample with chat messages"
    if "assistant" not in roles:
        return "no assistant message"
    return None


def pretraining_samples(passages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``{"text", "leaf", "index"}`` passages -> ``{"messages": [{"role": "pretraining", ...}]}`` samples."""
    return [
        {
            "messages": [{"role": "pretraining", "content": str(passage["text"]).strip()}],
            QUESTIONS_KEY: [],
            "metadata": {"leaf": passage.get("leaf"), "kind": "knowledge", "sample_type": "passage"},
        }
        for passage in passages
        if str(passage.get("text") or "").strip()
    ]


def chat_sample(
    user: str, assistant: str, metadata: dict[str, Any], system: str, *, questions: list[str]
) -> dict[str, Any]:
    """One system/user/assistant sample; ``questions``: what it trains (the record evaluation reads)."""
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user.strip()},
            {"role": "assistant", "content": assistant.strip()},
        ],
        QUESTIONS_KEY: [question.strip() for question in questions],
        "metadata": metadata,
    }


def knowledge_samples(
    rows: Iterable[dict[str, Any]],
    distractor_pool: list[str],
    *,
    distractor_ratio: float,
    rng: random.Random,
    system: str = SYSTEM_PROMPT,
    context_ratio: float = 1.0,
) -> list[dict[str, Any]]:
    """Each row closed-book, and a ``context_ratio`` share of them also with their passage (RAFT).

    Rows need ``question``, ``answer`` and ``document`` (the passage shown);
    ``raw_document`` (the chunk a summary came from) is never used as a distractor.
    """
    samples = []
    for row in rows:
        meta = {"leaf": row.get("leaf"), "dataset_type": row.get("dataset_type"), "kind": "knowledge"}
        asked = [str(row["question"])]
        closed = chat_sample(
            row["question"], row["answer"], {**meta, "sample_type": "closed_book"}, system, questions=asked
        )
        if context_ratio < 1.0 and rng.random() >= context_ratio:
            samples.append(closed)
            continue
        context = str(row["document"])
        documents = [context]
        others = [chunk for chunk in distractor_pool if chunk not in (context, row.get("raw_document"))]
        if others and rng.random() < distractor_ratio:
            documents.append(rng.choice(others))
            rng.shuffle(documents)
        shown = "\n\n".join(f"Document {i + 1}:\n{text.strip()}" for i, text in enumerate(documents))
        user = f"Use the documents below to answer the question.\n\n{shown}\n\nQuestion: {row['question']}"
        style = "context_with_distractor" if len(documents) > 1 else "context"
        samples.append(chat_sample(user, row["answer"], {**meta, "sample_type": style}, system, questions=asked))
        samples.append(closed)
    return samples


def skill_samples(rows: Iterable[dict[str, Any]], *, system: str = SYSTEM_PROMPT) -> list[dict[str, Any]]:
    """One sample per skill row (``question``, ``answer``, optional ``context`` shown before the question)."""
    samples = []
    for row in rows:
        context = row.get("context")
        user = f"{context.strip()}\n\n{row['question']}" if context else str(row["question"])
        kind = "grounded_skill" if context else "freeform_skill"
        meta = {"leaf": row.get("leaf"), "kind": kind}
        samples.append(chat_sample(user, row["answer"], meta, system, questions=[str(row["question"])]))
    return samples
