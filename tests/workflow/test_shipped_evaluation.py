"""The evaluate stage scores the GGUF the run ships beside the checkpoint, on the same test split.

Real parts: the packaged default model's HF folder stands for the checkpoint
and its packaged Q4_1 GGUF for the shipped file (transformers de-quantises it,
so the log-likelihood benchmarks score the very weights llama.cpp serves).
Recall is answered through llama.cpp servers on 127.0.0.1 (the checkpoint via
its f16 GGUF, the shipped file as is).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxolab.config import load_config
from taxolab.workflow.model_steps import evaluate_models

HELD_OUT = [
    {"question": "What colour is the chickadee's cap?", "answer": "The chickadee has a black cap.", "leaf": "birds"},
    {"question": "What is the capital of France?", "answer": "Paris is the capital of France.", "leaf": "birds"},
]
QUESTIONS = [
    {"question": "What is the capital of France?", "choices": ["Paris", "Rome", "Berlin", "Madrid"], "answer": 0},
    {"question": "Which planet is red?", "choices": ["Venus", "Mars", "Jupiter", "Saturn"], "answer": 1},
    {"question": "2 + 2 =", "choices": ["3", "5", "4", "22"], "answer": 2},
]


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.mark.slow
def test_shipped_gguf_is_scored_beside_the_checkpoint(default_hf_model: Path, tmp_path: Path) -> None:
    from taxolab.models.default import default_gguf_path

    mix = tmp_path / "mix"
    write(mix / "test" / "birds.jsonl", [{**row, "leaf": "birds"} for row in QUESTIONS])
    write(mix / "dev" / "test" / "birds.jsonl", [{**QUESTIONS[0], "question": "Dev only?", "leaf": "birds"}])
    write(mix / "heldout" / "birds.jsonl", HELD_OUT)
    write(mix / "dev" / "heldout" / "birds.jsonl", [{**HELD_OUT[0], "question": "Dev only: what do they eat?"}])
    config = load_config(
        None,
        {
            "evaluate": {"cache_dir": str(tmp_path / "cache"), "batch_size": 4, "mmlu_sample": 8},
            "models": {"student": str(default_hf_model)},
        },
    )
    outputs = evaluate_models(
        config,
        default_hf_model,
        test_dir=mix / "test",
        taxonomy_root=tmp_path / "no-taxonomy",
        taxonomy_base="empty",
        benchmarks=["mmlu_branch", "mmlu", "recall"],
        out_dir=tmp_path / "evaluation",
        shipped=default_gguf_path(),
    )
    shipped = outputs["shipped"]
    assert shipped["gguf"] == str(default_gguf_path()) and shipped["checkpoint"] == str(default_hf_model)
    assert set(shipped["benchmarks"]) == {"mmlu_branch", "mmlu", "recall"}
    recall = shipped["benchmarks"]["recall"]
    assert recall["metric"] == "facts learned" and recall["count"] == 2  # the test split's held-out pairs
    assert recall["checkpoint"] == outputs["overall"]["recall"]["trained"]
    assert recall["difference"] == pytest.approx(recall["shipped"] - recall["checkpoint"])
    branch = shipped["benchmarks"]["mmlu_branch"]
    assert branch["count"] == 3  # the test split's questions, not the dev split's
    assert branch["checkpoint"] == outputs["overall"]["mmlu_branch"]["trained"]
    assert branch["difference"] == pytest.approx(branch["shipped"] - branch["checkpoint"])
    assert shipped["benchmarks"]["mmlu"]["count"] == 8
    results = json.loads(Path(shipped["results"]).read_text())
    assert results["model"] == str(default_gguf_path()) and results["base_model"] == str(default_hf_model)
