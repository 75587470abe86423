"""Knowledge documents -> chunks sized in the teacher's own tokens.

Chunks must fit the teacher's context together with the prompt and the
answer, so they are measured with the teacher's tokenizer when we have it (the
default model's HF tokenizer) and with a conservative estimate otherwise
(remote teachers whose tokenizer we cannot load offline): :func:`estimated_tokens`
counts words for ordinary text and characters for text without spaces, so a
Japanese section or a long URL is cut to the budget too (issue 19, case 18).
This module is the one chunker of generation: ``data generate``, ``taxolab run``
(with its ``run.max_chunks_per_leaf`` budget, :func:`spread`) and the run plan all call
:func:`leaf_chunks`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taxolab.documents.settings import DocumentSettings
from taxolab.taxonomy.model import Leaf

TOKENS_PER_WORD = 1.3
"""Tokens of one ordinary English word (SmolLM2's tokenizer: 1.46 on the Examplia text of case 18)."""
CHARS_PER_TOKEN = 3.2
"""ASCII letters and digits per token inside a word (English prose measured 3.9 with SmolLM2's tokenizer)."""
TOKENS_PER_PUNCTUATION = 0.6
"""Tokens per ASCII punctuation character inside a word (code and URLs are mostly punctuation)."""
UNBROKEN_CHARS = 24
"""A word longer than this is no word (base64, a hash, a URL): it is counted at :data:`UNBROKEN_CHARS_PER_TOKEN`."""
UNBROKEN_CHARS_PER_TOKEN = 1.1
"""Base64 measured 1.24 characters per token and a hex digest 1.10 with SmolLM2's tokenizer, the worst text measured."""
TOKENS_PER_TWO_BYTE_CHAR = 1.0
"""Characters of two UTF-8 bytes (accented Latin, Greek, Cyrillic, Hebrew, Arabic): Cyrillic measured 0.85."""
TOKENS_PER_WIDE_CHAR = 2.5
"""Characters of three or more UTF-8 bytes (Indic, Thai, CJK, Hangul): SmolLM2 measured Chinese 1.6,
Japanese 1.85, Thai 1.85 and Hangul 2.5 tokens per character (a byte-level tokenizer with few such merges)."""
PROMPT_BUDGET = 1024
"""Tokens kept free for the prompt around a chunk (instructions plus three in-context examples)."""

TokenCounter = Callable[[str], int]


def estimated_tokens(text: str) -> int:
    """A conservative estimate of a text's tokens, for a teacher whose tokenizer we cannot load.

    Per whitespace-separated word: ``max(1.3, letters / 3.2 + 0.6 x punctuation)`` for its ASCII
    characters, or ``characters / 1.1`` for an ASCII run longer than 24 characters, plus 1 token per
    two-byte character and 2.5 per wider one (the module's constants). Against SmolLM2's tokenizer
    (a small English-centric vocabulary, so the worst case of common tokenizers) the estimate was
    0.8-2.0x the real count: English, German, Russian 1.14-1.17x, Chinese 1.54x, French and Arabic
    0.92-0.94x, Python code 0.81x, URLs 2.0x. A long span without spaces is never one "word".
    """
    total = 0.0
    for word in text.split():
        letters = punctuation = two_byte = wide = 0
        for char in word:
            code = ord(char)
            if code < 0x80:
                if char.isalnum():
                    letters += 1
                else:
                    punctuation += 1
            elif code < 0x800:
                two_byte += 1
            else:
                wide += 1
        ascii_chars = letters + punctuation
        if ascii_chars > UNBROKEN_CHARS:
            total += ascii_chars / UNBROKEN_CHARS_PER_TOKEN
        elif ascii_chars:
            total += max(TOKENS_PER_WORD, letters / CHARS_PER_TOKEN + punctuation * TOKENS_PER_PUNCTUATION)
        total += two_byte * TOKENS_PER_TWO_BYTE_CHAR + wide * TOKENS_PER_WIDE_CHAR
    return math.ceil(total)


def hf_counter(model_dir: Path) -> TokenCounter:
    """Count with an HF tokenizer folder (no special tokens: they belong to the prompt)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    tokenizer.model_max_length = 1 << 60  # counting a long document is no model input: no length warning
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


def leaf_chunks(
    leaf: Leaf, plan: ChunkPlan, count_tokens: TokenCounter, documents_settings: DocumentSettings
) -> list[str]:
    """All chunks of all documents of a knowledge leaf, in document order.

    Documents are fetched as ``documents_settings`` says (mirrors, offline) into taxolab's
    document cache. Raises :class:`~taxolab.errors.TaxolabError` naming the leaf's qna.yaml
    when a document cannot be fetched, matched or read. Prints one ``note:`` line on stderr
    per document that had pictures embedded as ``data:`` URIs (left out: they carry no text) or a
    span without spaces or sentence ends longer than a chunk (cut between characters).
    """
    from taxolab.config import paths
    from taxolab.console import stderr
    from taxolab.documents import load_leaf_documents, split_text

    documents = load_leaf_documents(
        leaf,
        mirrors=documents_settings.mirrors,
        cache_dir=paths.cache_dir() / "documents",
        offline=documents_settings.offline,
    )
    chunks: list[str] = []
    for document in documents:
        where = f"{leaf.name}: {document.name}"
        if document.dropped.count:
            stderr.print(
                f"note: {where}: left out {document.dropped.count} embedded picture(s) given as data: URIs "
                f"({document.dropped.characters:,} characters of base64; they carry no text)",
                highlight=False,
                soft_wrap=True,
            )
        result = split_text(
            document.text, max_tokens=plan.max_tokens, overlap_tokens=plan.overlap_tokens, count_tokens=count_tokens
        )
        if result.hard_cuts:
            stderr.print(
                f"note: {where}: text without spaces or sentence ends (up to {result.longest_unbroken:,} characters "
                f"in one run) was cut between characters at {result.hard_cuts} places to fit chunks of "
                f"{plan.max_tokens} teacher tokens",
                highlight=False,
                soft_wrap=True,
            )
        chunks.extend(result.chunks)
    return [chunk for chunk in chunks if chunk.strip()]


def spread(items: list[str], limit: int) -> list[str]:
    """At most ``limit`` items, evenly spaced from first to last, in order."""
    if len(items) <= limit:
        return items
    if limit == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]
