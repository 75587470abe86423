"""The run report renders from recorded stage outputs; the data helpers the loop adds to generation."""

from __future__ import annotations

import json
from pathlib import Path

from taxolab import fsio
from taxolab.evaluation.results import BenchmarkResult, EvaluationReport, ModelScores
from taxolab.reports.run_report import result_from_json, write_run_report
from taxolab.taxonomy.model import Leaf, LeafKind, SeedExample
from taxolab.workflow.data import seed_rows, seed_test_questions, spread
from taxolab.workflow.layout import RunLayout
from taxolab.workflow.manifest import RunManifest, StageRecord


def knowledge_leaf(tmp_path: Path, pairs: int = 5) -> Leaf:
    examples = [SeedExample(f"question {i}?", f"answer {i}", context=f"context {i}") for i in range(pairs)]
    qna = tmp_path / "knowledge" / "birds" / "qna.yaml"
    return Leaf(qna, tmp_path, LeafKind.KNOWLEDGE, 3, "me", examples)


def test_seed_test_questions_are_valid_multiple_choice(tmp_path: Path) -> None:
    leaf = knowledge_leaf(tmp_path)
    questions = seed_test_questions(leaf, seed=1)
    assert len(questions) == 5
    for index, row in enumerate(questions):
        assert row["choices"][row["answer"]] == f"answer {index}"
        assert len(set(row["choices"])) == 4
        assert row["leaf"] == "knowledge_birds"
    assert questions == seed_test_questions(leaf, seed=1)
    assert seed_test_questions(knowledge_leaf(tmp_path, pairs=3), seed=1) == []


def test_seed_rows_carry_the_context_as_document(tmp_path: Path) -> None:
    rows = seed_rows(knowledge_leaf(tmp_path, pairs=1))
    assert rows == [
        {
            "question": "question 0?",
            "answer": "answer 0",
            "leaf": "knowledge_birds",
            "document": "context 0",
            "dataset_type": "seed_example",
        }
    ]


def test_spread_keeps_first_and_last() -> None:
    items = [str(i) for i in range(10)]
    assert spread(items, 3) == ["0", "4", "9"] or spread(items, 3) == ["0", "5", "9"]
    assert spread(items, 20) == items
    assert spread(items, 1) == ["0"]


def test_report_renders_every_section(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / "run")
    leaf_dir = layout.leaf_data("knowledge_birds", "abc")
    fsio.write_jsonl(leaf_dir / "generated" / "knowledge_birds.jsonl", [{"question": "Q?", "answer": "A", "_raw": "x"}])
    metrics = tmp_path / "metrics.jsonl"
    fsio.write_jsonl(metrics, [{"step": i, "loss": 2.0 / i, "samples_seen": 4 * i} for i in range(1, 8)])
    result = BenchmarkResult(
        "mmlu_branch",
        "accuracy",
        (0.0, 1.0),
        ModelScores("trained", 0.8, {"knowledge_birds": 0.8}, {"knowledge_birds": 5}),
        ModelScores("base", 0.4, {"knowledge_birds": 0.4}, {"knowledge_birds": 5}),
    )
    results = tmp_path / "results.json"
    fsio.write_json(results, EvaluationReport("trained", "base", tmp_path, [result]).to_json())
    assert result_from_json(json.loads(results.read_text())["results"]["mmlu_branch"]).comparison()[0].delta > 0
    manifest = RunManifest.load(layout.root)
    manifest.info.update(
        profile={"name": "cpu-small", "summary": "small"},
        options={"taxonomy_path": "/t", "taxonomy_base": "empty"},
        versions={"taxolab": "0.1.0"},
    )
    leaves = [{"name": "knowledge_birds", "kind": "knowledge", "version": 3, "path": "knowledge/birds/qna.yaml",
               "seed_examples": 5, "document": "repo@abc"}]  # fmt: skip
    outputs = {
        "taxonomy": {"leaves": leaves, "commit": "abc"},
        "generate:knowledge_birds": {"folder": str(leaf_dir), "counts": {"seeds": 1, "rows": 1, "dropped": {"x": 2}}},
        "mix": {"mixes": {"knowledge_train_msgs": 4}, "leaves": {"knowledge_birds": {"seed_examples": 5}}},
        "train": {
            "strategy": "single",
            "final_dir": "/m",
            "selected_by": "validation loss",
            "phases": [
                {
                    "name": "single",
                    "metrics_file": str(metrics),
                    "checkpoints": [],
                    "dropped": {},
                    "train_samples": 4,
                    "validation_samples": 0,
                    "tokens_per_second": 50.0,
                }
            ],
        },
        "evaluate": {"results": str(results)},
        "convert": {"gguf": "/m.gguf", "outtype": "q8_0", "bytes": 1e6},
    }
    for name, out in outputs.items():
        manifest.stages[name] = StageRecord("h", out, 0.0, 1.0)
    html = write_run_report(layout, manifest, chat_command="taxolab model chat").read_text()
    for needle in ("knowledge_birds", "data:image/png", "80.0%", "+40.0 pt", "Q?", "taxolab model chat", "cpu-small"):
        assert needle in html
    assert "_raw" not in html
