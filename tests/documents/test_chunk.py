"""Chunking: every chunk within the token budget by the given counter, cut at seams, overlapping."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxolab.documents import chunk_text, convert_to_text, fetch_documents, split_text
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


TIMETABLE = "A ferry links Examplia to Norr. The timetable is:\n| Departs | From | To |\n|---|---|---|\n" + "\n".join(
    f"| {hour:02d}:15 | {'Examplia' if hour % 2 else 'Norr'} | {'Norr' if hour % 2 else 'Examplia'} |"
    for hour in range(6, 22)
)


def test_a_table_travels_with_its_header() -> None:
    whole = chunk_text(TIMETABLE, max_tokens=200, overlap_tokens=0, count_tokens=words)
    assert len(whole) == 1 and whole[0] == TIMETABLE  # fits: one chunk, glued table included
    chunks = chunk_text(TIMETABLE, max_tokens=40, overlap_tokens=5, count_tokens=words)
    assert len(chunks) > 2 and all(words(c) <= 40 for c in chunks)
    rows = [line for line in TIMETABLE.splitlines() if line.startswith("| ") and ":15" in line]
    for row in rows:
        holding = [c for c in chunks if row in c]
        assert holding and all("| Departs | From | To |\n|---|---|---|" in c for c in holding)


def test_a_50_kb_document_without_spaces_fits_the_real_tokenizer(real_tokenizer: Any) -> None:
    def count(text: str) -> int:
        return len(real_tokenizer.encode(text, add_special_tokens=False))

    japanese = "".join(
        f"第{i}項：エグザンプリアの灯台は一八九〇年に建てられ、灯りは十八海里先まで見えます。" for i in range(300)
    )
    hexdump = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(200))  # 12,800 characters, no seam
    thai = "กรุงเทพมหานครเป็นเมืองหลวงและนครที่มีประชากรมากที่สุดของประเทศไทย" * 40
    text = f"# Lighthouse\n\nThe lighthouse was built in 1890.\n\n{japanese}\n\n{hexdump}\n\n{thai}\n"
    assert len(text.encode()) > 50_000
    result = split_text(text, max_tokens=300, overlap_tokens=0, count_tokens=count)
    assert all(count(c) <= 300 for c in result.chunks)
    assert "".join("".join(result.chunks).split()) == "".join(text.split())  # nothing lost, nothing repeated
    # Japanese is cut at its full stops (a seam), the hex digest and the Thai run between characters
    assert all(c.endswith("。") for c in result.chunks if "項" in c and "กรุง" not in c and "1890" not in c)
    assert result.hard_cuts > 0 and result.longest_unbroken == len(hexdump)


def test_the_estimate_never_counts_a_long_span_as_one_word() -> None:
    from taxolab.sdg.chunks import estimated_tokens

    # 10 words, 15 tokens by SmolLM2's tokenizer
    assert estimated_tokens("The lighthouse was built in 1890 on the north mole.") == 16
    assert estimated_tokens("a" * 11_000) == 10_000
    assert estimated_tokens("灯台" * 100) == 500
    chunks = chunk_text("灯" * 10_000, max_tokens=250, overlap_tokens=20, count_tokens=estimated_tokens)
    assert len(chunks) == 100 and all(estimated_tokens(c) <= 250 for c in chunks)


def test_a_soft_wrapped_sentence_is_never_cut_at_its_line_breaks() -> None:
    """Issue 16 (zebu run): chunks began at a wrapped line, "YBP at Mehrgarh, present-day Pakistan, ..." became
    an answer span and the sentence it came from ("... domesticated between 7,000 and 6,000\\nYBP at Mehrgarh")
    was whole in no chunk. A line break inside a Markdown paragraph is a soft wrap, not a seam."""
    import textwrap

    from taxolab.sdg.spans import document_spans

    sentences = [
        f"Zebu herd {i} was first counted between {i},000 and {i + 1},000 YBP at Mehrgarh, present-day Pakistan, "
        f"by Herders Of Clan {i}."
        for i in range(40)
    ]
    paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, 40, 5)]
    text = "# Zebu\n\n" + "\n\n".join(textwrap.fill(p, width=60) for p in paragraphs) + "\n\n- a list item\n- another"
    for budget, overlap in [(60, 20), (100, 30), (45, 0)]:
        chunks = chunk_text(text, max_tokens=budget, overlap_tokens=overlap, count_tokens=words)
        assert all(words(c) <= budget for c in chunks)
        assert all(" ".join(c.split()).startswith(("Zebu herd", "# Zebu", "- a")) for c in chunks)  # sentence starts
        spans = {span for chunk in chunks for span in document_spans(chunk)}
        assert spans >= set(sentences)  # every sentence whole in some chunk
        assert all(span.startswith("Zebu herd") for span in spans if "Mehrgarh" in span)
        assert not any("\n" in line for c in chunks for line in c.split("\n\n") if line.startswith("Zebu"))  # no wrap
    assert "- a list item\n- another" in chunk_text(text, max_tokens=400, overlap_tokens=0, count_tokens=words)[-1]


def test_a_sentence_ending_like_an_abbreviation_at_a_chunk_end_opens_the_next_chunk() -> None:
    """Chickadee document: a list item ending "... to northeastern U.S." closed a chunk; the span reader leaves
    such a last piece out (it looks cut after an abbreviation) and the overlap, shorter than the item, did not
    repeat it, so the fact was in no span. With any overlap the next chunk opens with the chunk's last sentence."""
    from taxolab.sdg.spans import document_spans

    items = [
        f"- Subspecies {name} ranges from eastern and central Canada to the northeastern U.S."
        for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta")
    ]
    text = "# Subspecies\n\n" + "\n".join(items) + "\n\nNo other subspecies are recognized today."
    chunks = chunk_text(text, max_tokens=30, overlap_tokens=4, count_tokens=words)
    assert len(chunks) > 2 and all(words(c) <= 30 for c in chunks)
    spans = " | ".join(span for chunk in chunks for span in document_spans(chunk))
    for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"):
        assert f"Subspecies {name} ranges" in spans
    # no overlap asked: nothing repeated
    assert sum(words(c) for c in chunk_text(text, max_tokens=30, overlap_tokens=0, count_tokens=words)) == words(text)
