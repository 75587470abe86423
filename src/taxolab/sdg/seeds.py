"""Seed rows: what each leaf feeds its pipeline.

Every seed row carries the leaf's seed examples (``seed_pool``) so the pipeline
itself samples its in-context examples (reproducibly, per batch). How many
seed rows a leaf gets follows ``--sdg-scale-factor`` = samples wanted per seed
example: skills pipelines make about one sample per seed row; the knowledge
pipeline about :data:`KNOWLEDGE_PAIRS_PER_ROW` per seed row (three pairs for
the chunk and for each of its three augmentations).
"""

from __future__ import annotations

import math
from typing import Any

from taxolab.sdg.blocks import Row
from taxolab.sdg.referents import chunk_subjects
from taxolab.taxonomy.model import Leaf

KNOWLEDGE_PAIRS_PER_ROW = 12


def seed_pool(leaf: Leaf) -> list[dict[str, Any]]:
    return [
        {"question": example.question.strip(), "answer": example.answer.strip(), "context": example.context}
        for example in leaf.seed_examples
    ]


def skill_seeds(leaf: Leaf, scale_factor: int) -> list[Row]:
    """``scale_factor`` rows per seed example."""
    pool = seed_pool(leaf)
    base = {"leaf": leaf.name, "task_description": (leaf.task_description or "").strip(), "seed_pool": pool}
    return [{**base, "seed_index": index} for index in range(len(pool) * scale_factor)]


def knowledge_seeds(leaf: Leaf, chunks: list[str], scale_factor: int, *, per_chunk: bool = False) -> list[Row]:
    """Rows spread round-robin over the chunks, every chunk at least once.

    ``per_chunk``: exactly one row per chunk, for pipelines whose yield follows
    the document rather than the scale factor (answer-first: one row per span
    of the chunk, ``generate.questions_per_span`` questions each).
    ``document_subject`` is what the chunk's document is about, for answer spans that
    open with "It" (:func:`taxolab.sdg.referents.chunk_subjects`; "" when unknown).
    """
    if not chunks:
        return []
    pool = seed_pool(leaf)
    outline = (leaf.document_outline or "").strip()
    subjects = [subject.name if subject else "" for subject in chunk_subjects(chunks, outline)]
    wanted = (
        len(chunks) if per_chunk else max(len(chunks), math.ceil(len(pool) * scale_factor / KNOWLEDGE_PAIRS_PER_ROW))
    )
    return [
        {
            "leaf": leaf.name,
            "seed_index": index,
            "chunk_index": index % len(chunks),
            "document": chunks[index % len(chunks)],
            "document_outline": outline,
            "document_subject": subjects[index % len(chunks)],
            "domain": (leaf.domain or "").strip(),
            "seed_pool": pool,
        }
        for index in range(wanted)
    ]


def mcq_seeds(leaf: Leaf, chunks: list[str]) -> list[Row]:
    """One row per chunk: test questions cover the whole document once."""
    return [
        {"leaf": leaf.name, "chunk_index": index, "document": chunk, "document_outline": leaf.document_outline or ""}
        for index, chunk in enumerate(chunks)
    ]
