"""Recipes, sampling sizes, messages validation, distractor mixing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from taxolab import fsio
from taxolab.errors import LocatedError
from taxolab.mixing import load_recipe, mix_recipe, write_recipe
from taxolab.mixing.messages import knowledge_samples, skill_samples, validate_sample
from taxolab.mixing.mix import sample_rows


def sample(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}], "metadata": {}}


def test_sampling_sizes() -> None:
    rng = random.Random(0)
    rows = list(range(10))
    assert sorted(sample_rows(rows, 1.0, rng)) == rows
    assert len(sample_rows(rows, 0.5, rng)) == 5
    assert sorted(sample_rows(rows, 2.0, rng)) == sorted(rows * 2)
    assert len(sample_rows(rows, 3, rng)) == 3
    assert len(set(sample_rows(rows, 3, rng))) == 3
    assert len(sample_rows(rows, 25, rng)) == 25
    assert sample_rows([], 2.0, rng) == []


def test_recipe_round_trip_mixes_and_skips_invalid_rows(tmp_path: Path) -> None:
    good = tmp_path / "data" / "a.jsonl"
    fsio.write_jsonl(
        good,
        [sample(f"q{i}") for i in range(4)]
        + [{"messages": []}, {"messages": [{"role": "user", "content": "no answer"}]}],
    )
    other = tmp_path / "data" / "b.jsonl"
    fsio.write_jsonl(other, [sample("b")])
    recipe = tmp_path / "recipes" / "mix.yaml"
    write_recipe(recipe, tmp_path / "out.jsonl", [(good, 0.5), (other, 3)], seed=7)
    loaded = load_recipe(recipe)
    assert loaded.output == tmp_path / "out.jsonl" and loaded.datasets == ((good, 0.5), (other, 3))
    result = mix_recipe(recipe)
    assert result.rows == 5
    assert result.invalid == {"a.jsonl: no messages list": 1, "a.jsonl: no assistant message": 1}
    rows = fsio.read_jsonl(tmp_path / "out.jsonl")
    assert len(rows) == 5 and all(validate_sample(row) is None for row in rows)
    assert mix_recipe(recipe).rows == 5 and fsio.read_jsonl(tmp_path / "out.jsonl") == rows


def test_recipe_errors_name_the_line(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("output: x.jsonl\ndatasets:\n  - path: a.jsonl\n    sampling_size: -1\n", encoding="utf-8")
    with pytest.raises(LocatedError, match=r"r\.yaml:4: datasets\.0\.sampling_size"):
        load_recipe(recipe)


def test_knowledge_samples_with_context_distractors_and_closed_book() -> None:
    rows = [
        {"document": f"chunk {i}", "raw_document": f"chunk {i}", "question": f"q{i}?", "answer": f"a{i}.", "leaf": "k"}
        for i in range(20)
    ]
    pool = [row["document"] for row in rows]
    samples = knowledge_samples(rows, pool, distractor_ratio=0.5, rng=random.Random(1))
    assert len(samples) == 40 and all(validate_sample(s) is None for s in samples)
    styles = [s["metadata"]["sample_type"] for s in samples]
    assert styles.count("closed_book") == 20 and 0 < styles.count("context_with_distractor") < 20
    for s, row in zip(samples[::2], rows, strict=True):
        user = s["messages"][1]["content"]
        assert row["document"] in user and user.endswith(f"Question: {row['question']}")
        if s["metadata"]["sample_type"] == "context_with_distractor":
            assert user.count("chunk ") == 2
    assert samples[1]["messages"][1]["content"] == "q0?"


def test_skill_samples_put_context_first() -> None:
    grounded, freeform = skill_samples(
        [{"question": "Q", "answer": "A", "context": "C"}, {"question": "Q", "answer": "A"}]
    )
    assert grounded["messages"][1]["content"] == "C\n\nQ" and grounded["metadata"]["kind"] == "grounded_skill"
    assert freeform["messages"][1]["content"] == "Q" and freeform["metadata"]["kind"] == "freeform_skill"
