"""Knowledge documents -> chunks sized in the teacher's own tokens.

Chunks must fit the teacher's context together with the prompt and the
answer, so they are measured with the teacher's tokenizer when we have it (the
default model's HF tokenizer) and with a words-based estimate otherwise
(remote teachers whose tokenizer we cannot load offline).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taxolab.documents.settings import DocumentSettings
from taxolab.taxonomy.model import Leaf

TOKENS_PER_WORD = 1.3
PROMPT_BUDGET = 1024
"""Tokens kept free for the prompt around a chunk (instructions plus three in-context examples)."""

TokenCounter = Callable[[str], int]


def words_counter(text: str) -> int:
    """Estimate of tokens for a tokenizer we cannot load: ~1.3 tokens per English word."""
    return math.ceil(len(text.split()) * TOKENS_PER_WORD)


def hf_counter(model_dir: Path) -> TokenCounter:
    """Count with an HF tokenizer folder (no special tokens: they belong to the prompt)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


@dataclass(frozen=True)
class ChunkPlan:
    """Chunk size and overlap in tokens, derived from the word-based settings and the context."""

    max_tokens: int
    overlap_tokens: int

    @classmethod
    def fit(cls, chunk_words: int, overlap_words: int, context_tokens: int | None, answer_tokens: int) -> ChunkPlan:
        size = int(chunk_words * TOKENS_PER_WORD)
        if context_tokens is not None:
            # ``answer_tokens`` is a cap, not what answers take: reserving all of a cap as large as the
            # context (4096 of 2048) shrank chunks to 64 tokens and cut most sentences in two.
            reserve = min(answer_tokens, context_tokens // 4)
            size = min(size, max(64, context_tokens - reserve - PROMPT_BUDGET))
        overlap = min(int(overlap_words * TOKENS_PER_WORD), size // 4)
        return cls(size, overlap)


def leaf_chunks(leaf: Leaf, plan: ChunkPlan, count_tokens: TokenCounter, documents_settings: DocumentSettings) -> list[str]:
    """All chunks of all documents of a knowledge leaf, in document order.

    Documents are fetched as ``documents_settings`` says (mirrors, offline) into taxolab's
    document cache. Raises :class:`~taxolab.errors.TaxolabError` naming the leaf's qna.yaml
    when a document cannot be fetched, matched or read.
    """
    from taxolab.config import paths
    from taxolab.documents import chunk_text, load_leaf_documents

    documents = load_leaf_documents(
        leaf,
        mirrors=documents_settings.mirrors,
        cache_dir=paths.cache_dir() / "documents",
        offline=documents_settings.offline,
    )
    chunks: list[str] = []
    for document in documents:
        chunks.extend(
            chunk_text(
                document.text,
                max_tokens=plan.max_tokens,
                overlap_tokens=plan.overlap_tokens,
                count_tokens=count_tokens,
            )
        )
    return [chunk for chunk in chunks if chunk.strip()]


def spread(items: list[str], limit: int) -> list[str]:
    """At most ``limit`` items, evenly spaced from first to last, in order."""
    if len(items) <= limit:
        return items
    if limit == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]
