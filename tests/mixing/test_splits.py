"""The dev/test split of held-out questions: disjoint, fixed by the seed, stable when mixed again."""

from __future__ import annotations

from pathlib import Path

from taxolab import fsio
from taxolab.mixing.splits import read_unsplit, split_of, split_rows, write_split

QUESTIONS = [f"What did the chickadee do in winter number {i}?" for i in range(400)]


def test_split_is_fixed_by_seed_and_text_and_near_the_fraction() -> None:
    first = [split_of(q, seed=7, dev_fraction=0.5) for q in QUESTIONS]
    assert first == [split_of(q, seed=7, dev_fraction=0.5) for q in QUESTIONS]
    # the question's normalised text decides, not its case, spacing or trailing punctuation
    assert split_of("  WHAT did the chickadee do in winter number 3 ? ", seed=7, dev_fraction=0.5) == first[3]
    assert 160 <= first.count("dev") <= 240  # 400 draws at p=0.5: outside this is a 1e-4 event
    other_seed = [split_of(q, seed=8, dev_fraction=0.5) for q in QUESTIONS]
    assert other_seed != first
    assert {split_of(q, seed=7, dev_fraction=0.0) for q in QUESTIONS} == {"test"}
    # a larger dev share only moves questions from test to dev, never back
    wider = [split_of(q, seed=7, dev_fraction=0.7) for q in QUESTIONS]
    assert all(w == "dev" for f, w in zip(first, wider, strict=True) if f == "dev")


def test_split_rows_partition_keeps_order() -> None:
    rows = [{"question": q, "i": i} for i, q in enumerate(QUESTIONS[:50])]
    dev, test = split_rows(rows, seed=1, dev_fraction=0.5)
    assert sorted(r["i"] for r in dev + test) == list(range(50))
    assert [r["i"] for r in dev] == sorted(r["i"] for r in dev)
    assert not {r["i"] for r in dev} & {r["i"] for r in test}


def test_writing_again_in_place_keeps_the_same_split(tmp_path: Path) -> None:
    """`data generate` mixes in its own folder: a second mix reads both splits back and splits them the same."""
    rows = [{"question": q, "answer": "a", "leaf": "birds"} for q in QUESTIONS[:40]]
    fsio.write_jsonl(tmp_path / "heldout" / "birds.jsonl", rows)
    counts = write_split(tmp_path, "heldout", "birds", read_unsplit(tmp_path, "heldout", "birds"), seed=3,
                         dev_fraction=0.5)  # fmt: skip
    dev = fsio.read_jsonl(tmp_path / "dev" / "heldout" / "birds.jsonl")
    test = fsio.read_jsonl(tmp_path / "heldout" / "birds.jsonl")
    assert counts == (len(dev), len(test)) and len(dev) + len(test) == 40 and dev and test
    again = write_split(tmp_path, "heldout", "birds", read_unsplit(tmp_path, "heldout", "birds"), seed=3,
                        dev_fraction=0.5)  # fmt: skip
    assert again == counts
    assert fsio.read_jsonl(tmp_path / "dev" / "heldout" / "birds.jsonl") == dev
    assert fsio.read_jsonl(tmp_path / "heldout" / "birds.jsonl") == test


def test_an_empty_side_leaves_no_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "dev" / "test" / "birds.jsonl"
    fsio.write_jsonl(stale, [{"question": "old?"}])
    write_split(tmp_path, "test", "birds", [{"question": q} for q in QUESTIONS[:5]], seed=0, dev_fraction=0.0)
    assert not stale.exists() and len(fsio.read_jsonl(tmp_path / "test" / "birds.jsonl")) == 5
