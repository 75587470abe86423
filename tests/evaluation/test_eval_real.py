"""Every benchmark against the real packaged model: llama.cpp server as model and judge, real weights.

Question sets are tiny and answers short, so these check the wiring end to
end (servers, prompts, parsing, reports), not the model's quality.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from taxolab.evaluation.api import evaluate
from taxolab.evaluation.mcq import choice_request
from taxolab.evaluation.mmlu_branch import find_test_files, load_questions

pytestmark = pytest.mark.slow


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_judged_benchmarks_with_real_server_as_model_and_judge(
    default_server: Any, new_skill_taxonomy: Path, tmp_path: Path, eval_config: Callable[..., Any]
) -> None:
    dk = write_jsonl(tmp_path / "dk.jsonl", [{"question": "How many legs does a spider have?", "answer": "Eight"}])
    held = write_jsonl(tmp_path / "held.jsonl", [{"question": "Who wrote Hamlet?", "answer": "William Shakespeare"}])
    config = eval_config(
        endpoint_url=default_server.url,
        judge_endpoint_url=default_server.url,
        taxonomy_path=new_skill_taxonomy,
        taxonomy_base="base",
        mt_bench_limit=1,
        dk_bench_data=dk,
        recall_data=held,
        max_tokens=24,
        judge_max_tokens=48,
    )
    report = evaluate(config, ["mt_bench", "mt_bench_branch", "dk_bench", "recall"])
    assert report.skipped == {}
    by_name = {result.benchmark: result for result in report.results}
    assert set(by_name) == {"mt_bench", "mt_bench_branch", "dk_bench", "recall"}
    for result in report.results:
        error_rate = result.trained.extra["judge_error_rate"]
        assert error_rate is not None and 0.0 <= error_rate <= 1.0
        if result.trained.overall is not None:
            assert result.scale[0] <= result.trained.overall <= result.scale[1]
        rows = [json.loads(line) for line in result.files["rows"].read_text().splitlines()]
        assert rows and all(row["answers"] for row in rows), f"{result.benchmark}: every question answered"
    assert by_name["mt_bench_branch"].new_groups == ["compositional_skills_grounded_linguistics_writing_rewriting"]
    assert 0.0 <= (by_name["recall"].trained.extra["token_f1"] or 0.0) <= 1.0
    assert report.html_report is not None and report.html_report.exists()


def test_default_model_served_locally_for_the_run(
    default_server: Any, tmp_path: Path, eval_config: Callable[..., Any]
) -> None:
    """--model default with no endpoint: taxolab starts llama.cpp for the answers and stops it after."""
    dk = write_jsonl(tmp_path / "dk.jsonl", [{"question": "Say hello.", "answer": "Hello"}])
    config = eval_config(
        model="default", judge_endpoint_url=default_server.url, dk_bench_data=dk, max_tokens=16, judge_max_tokens=24
    )
    report = evaluate(config, ["dk_bench"])
    (result,) = report.results
    row = json.loads(result.files["rows"].read_text().splitlines()[0])
    assert row["answers"] and row["answers"][0].strip()


def test_mmlu_branch_and_mmlu_with_the_default_model_weights(
    *,
    default_hf_model: Path,
    tiny_models: list[Path],
    tmp_path: Path,
    eval_config: Callable[..., Any],
    mcq_rows: list[dict[str, Any]],
    brute_force: Callable[..., list[float]],
) -> None:
    test = tmp_path / "run" / "test"
    test.mkdir(parents=True)
    write_jsonl(test / "knowledge_general.jsonl", [{**q, "leaf": "knowledge_general"} for q in mcq_rows[:3]])
    config = eval_config(
        model="default",
        base_model=str(tiny_models[0]),
        tasks_dir=tmp_path / "run",
        mmlu_subjects=["astronomy"],
        mmlu_limit=2,
    )
    report = evaluate(config, ["mmlu_branch", "mmlu"])
    assert report.skipped == {}
    branch, mmlu = report.results
    model = AutoModelForCausalLM.from_pretrained(default_hf_model, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(default_hf_model)
    (question, *_) = load_questions(find_test_files(tmp_path / "run", tmp_path))
    expected = brute_force(model, tokenizer, choice_request(question, "letter", "knowledge general"))
    rows = [json.loads(line) for line in branch.files["rows"].read_text().splitlines()]
    trained_rows = [row for row in rows if row["model"] == "trained"]
    assert trained_rows[0]["loglik"] == pytest.approx(expected, abs=1e-3)
    hits = sum(row["chosen"] == row["answer"] for row in trained_rows)
    assert branch.trained.groups == {"knowledge_general": pytest.approx(hits / 3)}
    assert branch.base is not None and branch.base.model == str(tiny_models[0])
    assert mmlu.trained.counts == {"astronomy": 2}


def test_hf_folder_is_converted_to_gguf_and_served(
    default_server: Any,
    tiny_models: list[Path],
    tmp_path: Path,
    eval_config: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trained checkpoint is an HF folder; llama.cpp needs GGUF: converted once (cached), then served."""
    monkeypatch.setenv("TAXOLAB_CACHE_DIR", str(tmp_path / "cache-root"))
    dk = write_jsonl(tmp_path / "dk.jsonl", [{"question": "Say hello.", "answer": "Hello"}])
    config = eval_config(
        model=str(tiny_models[0]),
        judge_endpoint_url=default_server.url,
        dk_bench_data=dk,
        max_tokens=8,
        judge_max_tokens=16,
    )
    report = evaluate(config, ["dk_bench"])
    assert list((tmp_path / "cache-root" / "gguf").glob("*.gguf"))
    row = json.loads(report.results[0].files["rows"].read_text().splitlines()[0])
    assert row["answer_error"] is None and len(row["answers"]) == 1
