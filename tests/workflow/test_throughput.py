"""Each stage's work and throughput: counted from what the stage wrote, kept in run.json and shown in the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.evaluation.results import BenchmarkResult, EvaluationReport, ModelScores
from taxolab.sdg.runs import write_manifest
from taxolab.workflow.manifest import RunManifest
from taxolab.workflow.stages import Stage
from taxolab.workflow.throughput import Work, evaluated_questions, generated_tokens, trained_tokens

from .test_stages import run_stages


def test_generation_counts_the_teachers_completion_tokens(tmp_path: Path) -> None:
    write_manifest(tmp_path, {"fingerprint": "f", "teacher_tokens": {"leaf/main": 300, "leaf/mcq": 45}})
    assert generated_tokens({"folder": str(tmp_path)}) == Work(345.0, "tokens")
    assert generated_tokens({"folder": str(tmp_path / "missing")}) is None


def test_training_counts_every_step_of_every_phase(tmp_path: Path) -> None:
    phases = []
    for name, tokens in (("knowledge", [100, 120]), ("skills", [50])):
        path = tmp_path / name / "metrics.jsonl"
        fsio.write_jsonl(path, [{"step": i + 1, "tokens": t, "loss": 1.0} for i, t in enumerate(tokens)])
        phases.append({"name": name, "metrics_file": str(path)})
    assert trained_tokens({"phases": phases}) == Work(270.0, "tokens")
    assert trained_tokens({"phases": []}) is None


def test_evaluation_counts_each_models_questions(tmp_path: Path) -> None:
    recall = BenchmarkResult(
        "recall", "recall", (0.0, 1.0),
        ModelScores("trained", 0.5, {"birds": 0.5, "fish": 0.5}, {"birds": 6, "fish": 4}),
        ModelScores("base", 0.1, {"birds": 0.1, "fish": 0.1}, {"birds": 6, "fish": 4}),
    )  # fmt: skip
    alone = BenchmarkResult(
        "mt_bench", "score", (1.0, 10.0), ModelScores("trained", 6.0, {"writing": 6.0}, {"writing": 3})
    )
    results = tmp_path / "results.json"
    fsio.write_json(results, EvaluationReport("trained", "base", tmp_path, [recall, alone]).to_json())
    assert evaluated_questions({"results": str(results)}) == Work(23.0, "questions")


def test_the_runner_keeps_wall_time_and_rate_in_run_json(tmp_path: Path) -> None:
    def counted(outputs: dict[str, Any]) -> Work:
        return Work(float(outputs["made"]), "tokens")

    stages = [
        Stage("counted", "counted", dict, lambda: {"made": 500}, work=counted),
        Stage("uncounted", "uncounted", dict, lambda: {"made": 1}),
    ]
    run_stages(stages, RunManifest.load(tmp_path), echo=False)
    steps = json.loads((tmp_path / "run.json").read_text())["steps"]
    throughput = steps["counted"]["outputs"]["throughput"]
    assert throughput["amount"] == 500 and throughput["unit"] == "tokens"
    assert throughput["seconds"] == round(steps["counted"]["finished"] - steps["counted"]["started"], 2)
    assert throughput["per_second"] is None or throughput["per_second"] > 0
    assert "throughput" not in steps["uncounted"]["outputs"]


def test_a_rate_over_no_time_is_none_not_a_division_error() -> None:
    assert Work(10.0, "tokens").rate(0.0)["per_second"] is None
    assert Work(10.0, "tokens").rate(4.0) == {"amount": 10.0, "unit": "tokens", "seconds": 4.0, "per_second": 2.5}
