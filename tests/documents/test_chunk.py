"""Chunking: every chunk within the token budget by the given counter, cut at seams, overlapping."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from taxolab.documents import chunk_text, convert_to_text, fetch_documents
from taxolab.taxonomy import DocumentRef

from .conftest import COMMIT, REPO_URL


def words(text: str) -> int:
    return len(text.split())


def chars(text: str) -> int:
    return len(text)


@pytest.fixture
def swifties(bundle: Path, cache: Path) -> str:
    (path,) = fetch_documents(
        DocumentRef(REPO_URL, COMMIT, ("swifties.md",)), mirrors={REPO_URL: str(bundle)}, cache_dir=cache
    )
    return convert_to_text(path)


@pytest.mark.parametrize(("counter", "max_tokens", "overlap"), [(words, 120, 30), (chars, 900, 0), (words, 40, 10)])
def test_chunks_fit_and_cover_the_document(
    swifties: str, counter: Callable[[str], int], max_tokens: int, overlap: int
) -> None:
    chunks = chunk_text(swifties, max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=counter)
    assert len(chunks) > 5
    assert all(0 < counter(c) <= max_tokens for c in chunks)
    # nothing lost: every word of the document appears, in order, across the chunks
    seen = " ".join(chunks).split()
    position = 0
    for word in swifties.split():
        position = seen.index(word, position) + 1
    if overlap == 0:
        assert sum(words(c) for c in chunks) == words(swifties)


def test_cuts_fall_on_paragraphs_and_sentences() -> None:
    paragraphs = [" ".join(f"Sentence {p}.{s} has five words." for s in range(4)) for p in range(6)]
    text = "\n\n".join(paragraphs)
    chunks = chunk_text(text, max_tokens=45, overlap_tokens=0, count_tokens=words)
    assert all(c.startswith("Sentence") and c.endswith("words.") for c in chunks)
    assert chunks[0] == f"{paragraphs[0]}\n\n{paragraphs[1]}\n\nSentence 2.0 has five words."  # 45 words
    assert chunks[1].startswith("Sentence 2.1") and "\n\n".join(chunks).count("Sentence") == 24


def test_overlap_repeats_the_tail_of_the_previous_chunk() -> None:
    text = " ".join(f"Fact number {i} is here." for i in range(30))
    chunks = chunk_text(text, max_tokens=25, overlap_tokens=10, count_tokens=words)
    for previous, current in itertools.pairwise(chunks):
        first_sentence = current.split(". ")[0] + "."
        assert first_sentence in previous  # the next chunk opens with the end of the last one
    assert all(words(c) <= 25 for c in chunks)


def test_giant_words_and_lines_are_split_to_fit() -> None:
    text = "a" * 50 + "\n" + "word " * 30
    chunks = chunk_text(text, max_tokens=12, overlap_tokens=3, count_tokens=chars)
    assert all(len(c) <= 12 for c in chunks)
    assert "".join(chunks[:5]).startswith("a" * 50)


def test_edge_cases() -> None:
    assert chunk_text("", max_tokens=10, overlap_tokens=2, count_tokens=words) == []
    assert chunk_text("  \n\n ", max_tokens=10, overlap_tokens=2, count_tokens=words) == []
    assert chunk_text("One short text.", max_tokens=10, overlap_tokens=20, count_tokens=words) == ["One short text."]
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("x", max_tokens=0, overlap_tokens=0, count_tokens=words)


@pytest.mark.slow
def test_with_the_default_model_tokenizer(swifties: str) -> None:
    """The real teacher tokenizer (read from the packaged GGUF, ~10 s): no chunk over budget."""
    from transformers import AutoTokenizer

    from taxolab.models.default import default_gguf_path

    gguf = default_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    chunks = chunk_text(swifties, max_tokens=256, overlap_tokens=32, count_tokens=count)
    assert len(chunks) > 10 and all(count(c) <= 256 for c in chunks)
    assert max(count(c) for c in chunks) > 200  # packed close to the budget, not timidly
