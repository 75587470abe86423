"""mt_bench_reference: the judge-free chat check scores each MT-Bench reference answer's log-likelihood per word."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taxolab.evaluation.api import evaluate
from taxolab.evaluation.mcq import ChoiceQuestion
from taxolab.evaluation.mt_bench_reference import reference_request


def test_reference_loglik_per_word_base_vs_trained(
    tiny_models: list[Path], eval_config: Callable[..., Any], brute_force: Callable[[Any, Any, Any], list[float]]
) -> None:
    config = eval_config(model=str(tiny_models[0]), base_model=str(tiny_models[1]))
    report = evaluate(config, ["mt_bench_reference"])
    (result,) = report.results
    assert result.metric == "log-likelihood per word" and result.judge is None
    assert set(result.trained.groups) == {"math", "reasoning", "coding"}
    assert sum(result.trained.counts.values()) == 30  # the 30 GPT-4 references of the packaged MT-Bench
    assert result.base is not None and result.base.overall != result.trained.overall
    # per question, so the base-vs-trained difference gets its paired test and a verdict (was "untested")
    assert len(result.trained.items) == len(result.base.items) == 30
    assert result.test() is not None and result.verdict() is not None
    assert {row.change.value for row in result.comparison()} != {"untested"}
    rows = [json.loads(line) for line in Path(result.files["rows"]).read_text().splitlines()]
    first = next(row for row in rows if row["model"] == "trained")
    request = reference_request(ChoiceQuestion(first["question"], (first["reference"],), 0, first["group"]))
    assert request.context == f"Question: {first['question'].strip()}\nAnswer:"
    model = AutoModelForCausalLM.from_pretrained(tiny_models[0], dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[0])
    # the definition: summed log-probabilities of the reference after its question, divided by its words
    assert first["loglik"] == pytest.approx(brute_force(model, tokenizer, request)[0], abs=1e-3)
    assert first["per_word"] == pytest.approx(first["loglik"] / len(first["reference"].split()))
