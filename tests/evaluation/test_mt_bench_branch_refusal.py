"""mt_bench_branch never scores a question the model trained on, and says so when that is every question.

The training files are written by the real mixing code from the leaf's seed
examples (what ``run.seed_examples`` does); the model and judge are scripted
servers on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.evaluation.api import evaluate
from taxolab.mixing.messages import skill_samples
from taxolab.mixing.training_sets import seed_rows
from taxolab.taxonomy import load_leaves
from taxolab.taxonomy.sample import write_sample
from taxolab.testing.fake_openai import FakeOpenAIServer


def test_seed_questions_in_the_training_files_are_refused(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    root = write_sample(tmp_path / "taxonomy", cache_dir=tmp_path / "documents").taxonomy
    skill = next(leaf for leaf in load_leaves(root, "empty") if not leaf.is_knowledge)
    seeds = len(skill.seed_examples)
    assert seeds >= 3
    run = tmp_path / "datasets" / "run1"
    samples = skill_samples(seed_rows(skill), system="You are a helpful assistant.")
    messages = run / "messages" / f"{skill.name}.jsonl"
    fsio.write_jsonl(messages, samples)
    model = fake_pair(lambda request: "an answer")
    judge = fake_pair(lambda request: "Rating: [[5]]")
    config = eval_config(
        endpoint_url=model.url, judge_endpoint_url=judge.url, taxonomy_path=root, taxonomy_base="empty", tasks_dir=run
    )

    report = evaluate(config, ["mt_bench_branch"])
    assert report.results == []
    reason = report.skipped["mt_bench_branch"]
    assert f"all {seeds} seed questions of the changed skill leaves are in the training set" in reason
    assert "run.seed_examples" in reason and "\n" not in reason
    assert model.requests == [] and judge.requests == []

    # the first seed left out of training: it alone is asked, the others are counted as refused
    fsio.write_jsonl(messages, samples[1:])
    (result,) = evaluate(config, ["mt_bench_branch"]).results
    assert f"refused: {seeds - 1} in training set ({run})" in result.notes
    assert "1 seed questions from 1 skill leaves" in result.notes
    assert len(model.requests) == 1
    assert skill.seed_examples[0].question.strip() in model.requests[0]["messages"][-1]["content"]
