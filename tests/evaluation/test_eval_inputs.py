"""Benchmark inputs the user named are checked first: a bad one is an error, never "skipped" with exit 0.

Issue 12, case 13 (instructlab/eval#60): ``--tasks-dir`` pointing at a missing path, an empty
folder or a malformed question file. Each is one line, exit 1, before any model is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxolab.cli.main import main
from taxolab.errors import LocatedError, TaxolabError
from taxolab.evaluation.mmlu_branch import find_test_files, load_questions

GOOD = {"question": "Where is Examplia?", "choices": ["On the Exa", "On the Rhine"], "answer": 0, "leaf": "towns"}


@pytest.fixture
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if evaluation gets as far as scoring or answering with a model."""
    from taxolab.evaluation import api

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was loaded before the inputs were checked")

    monkeypatch.setattr(api, "score_loglik", refuse)
    monkeypatch.setattr(api, "answer_and_judge", refuse)


def evaluate_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    args = ["model", "evaluate", "--model", "default", "--base-model", "default"]
    code = main([*args, "--output-dir", str(tmp_path / "eval"), *extra])
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, err.strip()


@pytest.mark.usefixtures("no_model_loads")
def test_missing_tasks_path_is_an_error_saying_it_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dir"
    code, err = evaluate_cli(tmp_path, capsys, "--benchmark", "mmlu_branch", "--tasks-dir", str(missing))
    assert code == 1
    assert err.startswith(f"error: {missing}: mmlu_branch question path does not exist; pass a data run folder")
    assert not (tmp_path / "eval" / "results.json").exists()


@pytest.mark.usefixtures("no_model_loads")
def test_empty_tasks_folder_is_an_error_naming_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty-tasks"
    empty.mkdir()
    code, err = evaluate_cli(tmp_path, capsys, "--benchmark", "mmlu_branch", "--tasks-dir", str(empty))
    assert code == 1 and err.startswith(f"error: {empty}: folder holds no *.jsonl question files for mmlu_branch")


@pytest.mark.usefixtures("no_model_loads")
def test_malformed_question_names_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad_questions.jsonl"
    broken = {k: v for k, v in GOOD.items() if k != "choices"}
    bad.write_text(json.dumps(GOOD) + "\n" + json.dumps(broken) + "\n")
    code, err = evaluate_cli(tmp_path, capsys, "--benchmark", "mmlu_branch", "--tasks-dir", str(bad))
    assert code == 1 and err == f"error: {bad}:2:1: bad mmlu_branch question: missing key 'choices'"


def test_empty_file_and_non_object_rows_are_located_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(TaxolabError, match=r"empty\.jsonl: holds no mmlu_branch questions"):
        load_questions([empty])
    listed = tmp_path / "list.jsonl"
    listed.write_text('["not", "an", "object"]\n')
    with pytest.raises(LocatedError, match=r"list\.jsonl:1:1: .*must be a JSON object"):
        load_questions([listed])


def test_without_a_path_a_missing_run_stays_skippable(tmp_path: Path) -> None:
    from taxolab.evaluation.benchmark import BenchmarkUnavailableError

    with pytest.raises(BenchmarkUnavailableError, match="run `taxolab data generate` or pass --tasks-dir"):
        find_test_files(None, tmp_path / "datasets")
    with pytest.raises(TaxolabError) as caught:
        find_test_files(tmp_path / "typo", tmp_path / "datasets")
    assert not isinstance(caught.value, BenchmarkUnavailableError)


@pytest.mark.usefixtures("no_model_loads")
def test_a_requested_benchmark_without_its_data_is_an_error_not_a_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = evaluate_cli(tmp_path, capsys, "--benchmark", "dk_bench")
    assert code == 1 and err.startswith("error: dk_bench: dk_bench needs your questions: pass --dk-bench-data")
    code, err = evaluate_cli(tmp_path, capsys, "--benchmark", "dk_bench", "--benchmark", "mmlu_branch")
    lines = err.splitlines()
    assert code == 1 and lines[0] == "error: cannot run:"
    assert lines[1].startswith("dk_bench: ") and lines[2].startswith("mmlu_branch: no generated test questions")


def test_library_callers_still_get_skips_with_reasons(eval_config: Callable[..., Any]) -> None:
    from taxolab.evaluation.api import evaluate

    report = evaluate(eval_config(endpoint_url="http://127.0.0.1:9/v1"), ["dk_bench"])
    assert "dk_bench" in report.skipped and report.results == []
    with pytest.raises(TaxolabError, match=r"^dk_bench: "):
        evaluate(eval_config(endpoint_url="http://127.0.0.1:9/v1"), ["dk_bench"], require_some=True)


def mmlu_row(topic: str, answer: str = "A") -> dict[str, str]:
    row = {"question": f"A question about {topic}?", "correct_answer": answer, "topic": topic}
    return {**row, **{f"answer_{c}": c for c in "abcd"}}


def test_mmlu_data_mistakes_are_errors_not_a_smaller_test(tmp_path: Path) -> None:
    from taxolab.evaluation.mmlu import load_mmlu

    with pytest.raises(TaxolabError, match=r"mmlu\.jsonl: MMLU data file does not exist"):
        load_mmlu(tmp_path / "mmlu.jsonl")
    data = tmp_path / "mmlu.jsonl"
    data.write_text("\n".join(json.dumps(mmlu_row(t)) for t in ("astronomy", "anatomy", "virology")) + "\n")
    assert len(load_mmlu(data, ["astronomy", "virology"])) == 2
    # a misspelt subject was silently left out before: now named, with the nearest one
    with pytest.raises(TaxolabError, match=r"no MMLU subject 'astronmy'; did you mean 'astronomy'\?"):
        load_mmlu(data, ["astronmy", "virology"])
    with pytest.raises(TaxolabError, match=r"no MMLU subject 'cooking' \(subjects: anatomy, astronomy, virology\)"):
        load_mmlu(data, ["cooking"])
    data.write_text(json.dumps(mmlu_row("astronomy", answer="1")) + "\n")
    with pytest.raises(TaxolabError, match=r"no row has correct_answer A, B, C or D \(1 rows without one\)"):
        load_mmlu(data)
    row = mmlu_row("astronomy")
    del row["topic"]
    data.write_text(json.dumps(row) + "\n")
    with pytest.raises(LocatedError, match=r"mmlu\.jsonl:1:1: bad MMLU row: missing key 'topic'"):
        load_mmlu(data)


@pytest.mark.usefixtures("no_model_loads")
def test_named_data_files_that_do_not_exist_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "dk.jsonl"
    code, err = evaluate_cli(tmp_path, capsys, "--benchmark", "dk_bench", "--dk-bench-data", str(missing))
    assert (
        code == 1 and err == f"error: {missing}: dk_bench data file does not exist (--dk-bench-data takes a JSONL file)"
    )


@pytest.mark.usefixtures("no_model_loads")
def test_loglik_benchmark_asked_for_with_only_an_endpoint_fails_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps(GOOD) + "\n")
    args = ["model", "evaluate", "--benchmark", "mmlu_branch", "--tasks-dir", str(questions)]
    code = main([*args, "--endpoint-url", "http://127.0.0.1:9/v1", "--output-dir", str(tmp_path / "eval")])
    err = capsys.readouterr().err
    assert code == 1 and "mmlu_branch: scored with the model's weights" in err and "pass --model" in err


def test_a_model_transformers_cannot_load_is_one_line_naming_the_folder(tmp_path: Path) -> None:
    from taxolab.evaluation.loglik import load_scorer

    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(TaxolabError) as caught:
        load_scorer(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder}: transformers cannot load this model for scoring (") and "\n" not in message


@pytest.mark.parametrize("in_dev", [1, 0])
def test_data_run_with_an_empty_test_split_is_skipped_with_its_reason(tmp_path: Path, in_dev: int) -> None:
    """A tiny run's split can put every question in dev (or build none): the report skips, the run never fails.

    Found by the clean-clone CI: ``taxolab run`` on one chunk exited 1 at evaluation
    because its mix/test/ folder was empty.
    """
    from taxolab.evaluation.benchmark import BenchmarkUnavailableError

    run = tmp_path / "mix"
    (run / "test").mkdir(parents=True)
    (run / "dev" / "test").mkdir(parents=True)
    if in_dev:
        (run / "dev" / "test" / "towns.jsonl").write_text(json.dumps(GOOD) + "\n")
    reason = "fell in the dev split" if in_dev else "built no multiple-choice questions"
    with pytest.raises(BenchmarkUnavailableError, match=reason):
        find_test_files(run, tmp_path / "datasets")
