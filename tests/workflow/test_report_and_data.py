"""The run report renders from recorded stage outputs; the data helpers the loop adds to generation."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from taxolab import fsio
from taxolab.evaluation.results import BenchmarkResult, EvaluationReport, ModelScores
from taxolab.evaluation.selection import DevScore
from taxolab.mixing.forms import Fact, count_forms, summary
from taxolab.reports.run_report import result_from_json, write_run_report
from taxolab.sdg.chunks import spread
from taxolab.taxonomy.model import Leaf, LeafKind, SeedExample
from taxolab.training.phase_recall import PhaseFigure, skipped, summarize
from taxolab.workflow.data import seed_rows
from taxolab.workflow.layout import RunLayout
from taxolab.workflow.manifest import RunManifest, StageRecord


def knowledge_leaf(tmp_path: Path, pairs: int = 5) -> Leaf:
    examples = [SeedExample(f"question {i}?", f"answer {i}", context=f"context {i}") for i in range(pairs)]
    qna = tmp_path / "knowledge" / "birds" / "qna.yaml"
    return Leaf(qna, tmp_path, LeafKind.KNOWLEDGE, 3, "me", examples)


def test_without_teacher_test_questions_the_mix_builds_them_from_heldout_pairs_not_seeds(tmp_path: Path) -> None:
    from taxolab.config import load_config
    from taxolab.workflow.data import LeafData, mix_leaves

    leaf = knowledge_leaf(tmp_path)
    folder = tmp_path / "generation"
    sentences = [f"The chickadee fact number {i} is stated in this long sentence here." for i in range(6)]
    fsio.write_jsonl(folder / "generated" / f"{leaf.name}.jsonl", [])
    fsio.write_jsonl(folder / "passages" / f"{leaf.name}.jsonl", [{"text": " ".join(sentences), "leaf": leaf.name}])
    heldout = [
        {"question": "Which is fact number two?", "answer": sentences[2], "leaf": leaf.name, "span_id": "0:2"},
        {"question": "question 1?", "answer": sentences[1], "leaf": leaf.name, "span_id": "0:1"},  # a seed question
    ]
    fsio.write_jsonl(folder / "heldout" / f"{leaf.name}.jsonl", heldout)
    out = mix_leaves([LeafData(leaf, folder)], tmp_path / "mix", "run", load_config(None, {}))
    (question,) = fsio.read_jsonl(tmp_path / "mix" / "test" / f"{leaf.name}.jsonl")
    assert question["question"] == "Which is fact number two?" and question["source"] == "heldout"
    assert question["choices"][question["answer"]] == sentences[2] and len(set(question["choices"])) == 4
    assert [h["question"] for h in fsio.read_jsonl(tmp_path / "mix" / "heldout" / f"{leaf.name}.jsonl")] == [
        "Which is fact number two?"
    ]
    assert out["leaves"][leaf.name]["test_source"] == "heldout" and out["leaves"][leaf.name]["seed_examples"] == 5


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
    # Position i of n picks round(i * 9 / (n - 1)); Python rounds halves to even, so 4.5 -> 4.
    assert spread(items, 3) == ["0", "4", "9"]
    assert spread(items, 4) == ["0", "3", "6", "9"]
    assert spread(items, 20) == items
    assert spread(items, 1) == ["0"]
    for total in range(2, 40):
        population = list(range(total))
        for limit in range(2, total + 1):
            picked = spread(population, limit)
            gaps = {b - a for a, b in itertools.pairwise(picked)}
            assert len(picked) == limit and picked[0] == 0 and picked[-1] == total - 1, (total, limit)
            assert min(gaps) >= 1 and max(gaps) - min(gaps) <= 1, (total, limit, picked)  # in order, evenly spaced


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
            "selected_by": "recall on the dev split (7 held-out pairs)",
            "starts": {"skills": {"path": "/k/epoch_3", "by": "recall on the dev split (7 held-out pairs)"}},
            "phases": [
                {
                    "name": "single",
                    "metrics_file": str(metrics),
                    "checkpoints": [
                        {"name": "epoch_1", "path": "/k/epoch_1", "step": 1, "samples_seen": 4, "val_loss": 1.5},
                        {
                            "name": "epoch_3",
                            "path": "/k/epoch_3",
                            "step": 3,
                            "samples_seen": 12,
                            "val_loss": None,
                            "dev": {
                                "recall": {"right": 5, "n": 7, "value": 5 / 7, "key": "k", "per_question": "1111100"}
                            },
                        },
                    ],
                    "dropped": {},
                    "train_samples": 4,
                    "validation_samples": 0,
                    "tokens_per_second": 50.0,
                }
            ],
            "phase_recall": summarize(
                [
                    PhaseFigure("knowledge", Path("/k/epoch_3"), DevScore((True,) * 5 + (False,) * 2, 0.0)),
                    PhaseFigure("skills", Path("/m"), DevScore((False,) * 7, 12.34, "phase recall")),
                ],
                "recall on the dev split (7 held-out pairs)",
            ),
            "throughput": {"amount": 4321.0, "unit": "tokens", "seconds": 10.0, "per_second": 432.1},
        },
        "evaluate": {
            "results": str(results),
            "shipped": {
                "gguf": "/m.gguf",
                "checkpoint": "/m",
                "results": "/e/shipped/results.json",
                "benchmarks": {
                    "recall": {
                        "metric": "facts learned",
                        "shipped": 0.25,
                        "checkpoint": 0.3,
                        "difference": -0.05,
                        "count": 20,
                    }
                },
                "skipped": {},
            },
        },
        "convert": {"gguf": "/m.gguf", "outtype": "q8_0", "bytes": 1e6},
    }
    for name, out in outputs.items():
        manifest.stages[name] = StageRecord("h", out, 0.0, 1.0)
    html = write_run_report(layout, manifest, chat_command="taxolab model chat").read_text()
    for needle in (
        "knowledge_birds", "data:image/png", "80.0%", "+40.0 pt", "Q?", "taxolab model chat", "cpu-small",
        "4,321 tokens, 432.1 tokens/s",
    ):  # fmt: skip
        assert needle in html
    assert "_raw" not in html
    # which split chose, which is reported, and the shipped file beside the checkpoint
    assert "phase skills started from /k/epoch_3 (chosen by recall on the dev split (7 held-out pairs))" in html
    assert "the evaluation below scores the test split" in html
    assert "what ships: /m.gguf beside the checkpoint" in html
    assert "<td>0.300</td><td>0.250</td><td>-0.050</td>" in html
    # the recall on dev after each phase, the cost of measuring it, and the per-checkpoint column
    assert "<b>recall on the dev split after knowledge: 5 of 7; after skills: 0 of 7</b>" in html
    assert "from knowledge to skills: 5 lost, 0 gained, 0 kept of 7 dev questions (exact McNemar p=0.062)" in html
    assert "not the test-split figures of the evaluation below" in html and "added 12.3 s of scoring" in html
    assert "<th>recall on dev</th>" in html
    assert "<td>epoch_3 (kept)</td><td>3</td><td>12</td><td>-</td><td>5 of 7</td>" in html
    assert "<td>epoch_1</td><td>1</td><td>4</td><td>1.5000</td><td>-</td>" in html
    assert 'class="worse"' not in html.split("<h2>Training</h2>")[1].split("<h2>")[0]  # p=0.062: within chance


def test_report_warns_when_the_skills_phase_lost_facts(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / "run")
    manifest = RunManifest.load(layout.root)
    manifest.info.update(profile={"name": "p", "summary": "s"}, options={}, versions={})
    lost = summarize(
        [
            PhaseFigure("knowledge", Path("/k"), DevScore((True,) * 9 + (False,), 1.0)),
            PhaseFigure("skills", Path("/s"), DevScore((False,) * 10, 1.0)),
        ],
        "recall on the dev split (10 held-out pairs)",
    )
    train = {"strategy": "lab-multiphase", "final_dir": "/s", "selected_by": "x", "phases": [], "phase_recall": lost}
    manifest.stages["train"] = StageRecord("h", train, 0.0, 1.0)
    html = write_run_report(layout, manifest, chat_command="c").read_text()
    assert f'<p class="worse"><b>{lost["warning"]}</b></p>' in html
    assert "raise mix.knowledge_replay" in lost["warning"]

    manifest.stages["train"] = StageRecord("h", {**train, "phase_recall": skipped("train.phase_recall is off")}, 0, 1)
    html = write_run_report(layout, manifest, chat_command="c").read_text()
    assert '<p class="meta">recall after each phase not measured: train.phase_recall is off</p>' in html


def test_report_counts_only_the_forms_of_the_epoch_variants_the_knowledge_phase_trained(tmp_path: Path) -> None:
    """mix.epoch_variants=2 with a knowledge phase of 1 epoch (a token budget lowered it): variant 1's forms
    were never trained, so the report's forms per fact leave them out and say why."""
    fact = Fact("0:0", "The chickadee sings in spring.", "The chickadee sings in spring.", 0)
    sample = {"messages": [{"role": "pretraining", "content": "The chickadee sings in spring."}],
              "metadata": {"sample_type": "permuted_passage"}}  # fmt: skip
    other = {**sample, "messages": [{"role": "pretraining", "content": "Later. The chickadee sings in spring."}]}
    counts = count_forms([fact], [{**sample, "variant": [0, 2]}, {**other, "variant": [1, 2]}], min_forms=2)
    mix_dir = tmp_path / "mix"
    fsio.write_json(mix_dir / "forms" / "knowledge_birds.json", counts)
    layout = RunLayout(tmp_path / "run")
    manifest = RunManifest.load(layout.root)
    manifest.info.update(profile={"name": "p", "summary": "s"}, options={}, versions={})
    leaf = {"name": "knowledge_birds", "kind": "knowledge", "version": 3, "path": "q", "seed_examples": 5}
    mixed = {**summary(counts), "forms_by_kind": counts["by_kind"]}
    train = {"strategy": "lab-multiphase", "final_dir": "/s", "selected_by": "x",
             "phases": [{"name": "knowledge", "epochs": 1, "checkpoints": [], "train_samples": 2, "validation_samples": 0,
                         "tokens_per_second": 9.0, "dropped": {}}]}  # fmt: skip
    for name, out in (
        ("taxonomy", {"leaves": [leaf]}),
        ("mix", {"folder": str(mix_dir), "mixes": {}, "leaves": {"knowledge_birds": mixed}}),
        ("train", train),
    ):
        manifest.stages[name] = StageRecord("h", out, 0.0, 1.0)
    html = write_run_report(layout, manifest, chat_command="c").read_text()
    assert mixed["forms_min"] == 2 and mixed["facts_short"] == 0  # as mixed: both draws
    assert "<td>knowledge_birds</td><td>1</td><td>1</td><td>1</td>" in html  # as trained: draw 0 alone
    assert "<td>1 (&lt; 2)</td>" in html and "permuted_passages 1</td>" in html
    assert "the knowledge phase trained 1 epochs, so only the first 1 of the 2 drawn variants" in html
    phase = {**train["phases"][0], "epochs": 2}
    manifest.stages["train"] = StageRecord("h", {**train, "phases": [phase]}, 0, 1)
    html = write_run_report(layout, manifest, chat_command="c").read_text()
    assert "<td>knowledge_birds</td><td>1</td><td>2</td><td>2</td>" in html and "drawn variants" not in html
