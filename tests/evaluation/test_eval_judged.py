"""Judged benchmarks scored exactly against scripted model and judge servers on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxolab.evaluation.api import evaluate
from taxolab.testing.fake_openai import FakeOpenAIServer


def user_text(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []))


MT_QUESTIONS = [
    {"question_id": 1, "category": "writing", "turns": ["Write a haiku about rain.", "Now make it rhyme."]},
    {"question_id": 2, "category": "math", "turns": ["What is 3 * 7?", "And 3 * 8?"]},
    {"question_id": 3, "category": "stem", "turns": ["What is DNA?", "Explain it to a child."]},
]
MT_REFERENCES = [{"question_id": 2, "choices": [{"index": 0, "turns": ["21", "24"]}]}]


def trained_model(request: dict[str, Any]) -> str:
    return "TRAINED says: " + request["messages"][-1]["content"]


def base_model(request: dict[str, Any]) -> str:
    return "BASE says: " + request["messages"][-1]["content"]


def mt_judge(request: dict[str, Any]) -> str:
    """Scores by what the prompt holds: reference-guided 3, base answers 2, turn 2 as "7/10", else [[8]]."""
    text = user_text(request)
    if "DNA" in text:
        return "I cannot decide."
    if "BASE says" in text:
        return "Score: 2"
    if "Reference" in text:
        return "The answer matches. Rating: [[3]]"
    if "### User:" in text:
        return "Good follow-up, 7/10."
    return 'Following the format "[[rating]]", for example: "Rating: [[5]]". My verdict: Rating: [[8]]'


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_mt_bench_exact_scores_per_turn_category_and_error_rate(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    model, base, judge = fake_pair(trained_model), fake_pair(base_model), fake_pair(mt_judge, model="judge")
    config = eval_config(
        endpoint_url=model.url,
        base_endpoint_url=base.url,
        judge_endpoint_url=judge.url,
        mt_bench_questions=write_jsonl(tmp_path / "q.jsonl", MT_QUESTIONS),
        mt_bench_references=write_jsonl(tmp_path / "r.jsonl", MT_REFERENCES),
    )
    report = evaluate(config, ["mt_bench"])
    (result,) = report.results
    trained = result.trained
    # writing: turn 1 [[8]], turn 2 7/10; math: reference-guided [[3]] twice; stem: unparseable twice.
    assert trained.groups == {"writing": 7.5, "math": 3.0, "stem": None}
    assert trained.overall == pytest.approx((8 + 7 + 3 + 3) / 4)
    assert trained.extra["turn_1"] == pytest.approx(5.5)
    assert trained.extra["turn_2"] == pytest.approx(5.0)
    assert trained.extra["judge_error_rate"] == pytest.approx(2 / 6)
    assert result.base is not None and result.base.overall == 2.0
    assert result.summary()["improved"] == ["writing", "math"]
    # multi-turn answers keep the first turn in the history; greedy for math, sampled for writing
    # every question starts with the one system prompt (mix.system_prompt)
    assert {r["messages"][0]["content"] for r in model.requests} == {config.mix.system_prompt}
    second_turns = [r for r in model.requests if len(r["messages"]) == 4]
    assert len(second_turns) == 3 and second_turns[0]["messages"][2]["role"] == "assistant"
    temps = {r["messages"][1]["content"]: r.get("temperature") for r in model.requests if len(r["messages"]) == 2}
    assert temps["Write a haiku about rain."] == 0.7 and temps["What is 3 * 7?"] == 0.0
    # the judge saw the reference answers for math
    assert any("21" in user_text(r) and "Reference" in user_text(r) for r in judge.requests)
    rows = [json.loads(line) for line in (report.output_dir / "mt_bench.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and rows[0]["scores"] == [8.0, 7.0]
    html = report.html_report.read_text() if report.html_report else ""
    assert html.count("data:image/png;base64,") == 2  # per-category bars and the radar


def test_packaged_mt_bench_questions_are_read_from_the_installed_package(
    eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    model, judge = fake_pair(trained_model), fake_pair(lambda r: "Rating: [[6]]")
    report = evaluate(eval_config(endpoint_url=model.url, judge_endpoint_url=judge.url, mt_bench_limit=2), ["mt_bench"])
    (result,) = report.results
    assert result.trained.overall == 6.0 and result.trained.counts == {"writing": 2}
    assert "Hawaii" in model.requests[0]["messages"][0]["content"] or any(
        "Hawaii" in user_text(r) for r in model.requests
    )


def dk_judge(request: dict[str, Any]) -> str:
    text = user_text(request)
    if "GIVEN RESPONSE" in text:
        return "Rating: [[5]]"
    if "lost" in text:
        return "7/10"  # not on the 1-5 scale: a judge error, not a 7
    return "Score: 4 out of 5"


def test_dk_bench_uses_given_responses_writes_jsonl_and_csv(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    data = write_jsonl(
        tmp_path / "dk.jsonl",
        [
            {"user_input": "Who wrote Hamlet?", "reference": "Shakespeare", "response": "GIVEN RESPONSE Shakespeare"},
            {"question": "Where is Paris?", "answer": "France"},
            {"user_input": "Where was the ring lost?", "reference": "In the river"},
        ],
    )
    model, judge = fake_pair(trained_model), fake_pair(dk_judge)
    report = evaluate(
        eval_config(endpoint_url=model.url, judge_endpoint_url=judge.url, dk_bench_data=data), ["dk_bench"]
    )
    (result,) = report.results
    assert len(model.requests) == 2  # the given response is graded as is
    assert result.trained.overall == pytest.approx(4.5)
    assert result.trained.extra["judge_error_rate"] == pytest.approx(1 / 3)
    with result.files["csv"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["score"] for row in rows] == ["5.0", "4.0", ""]
    assert rows[0]["response"] == "GIVEN RESPONSE Shakespeare" and rows[1]["question"] == "Where is Paris?"


def test_second_judge_and_rerun_reuse_cached_answers(
    tmp_path: Path,
    eval_config: Callable[..., Any],
    fake_pair: Callable[..., FakeOpenAIServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taxolab.evaluation import phases

    opened: list[Any] = []
    real_open = phases.open_endpoint
    monkeypatch.setattr(
        phases, "open_endpoint", lambda target, *a, **k: opened.append(target) or real_open(target, *a, **k)
    )
    data = write_jsonl(tmp_path / "dk.jsonl", [{"question": f"Q{i}?", "answer": f"A{i}"} for i in range(4)])
    model = fake_pair(trained_model)
    first, second = fake_pair(lambda r: "Rating: [[3]]"), fake_pair(lambda r: "Rating: [[5]]")
    run = evaluate(eval_config(endpoint_url=model.url, judge_endpoint_url=first.url, dk_bench_data=data), ["dk_bench"])
    assert run.results[0].trained.overall == 3.0 and len(model.requests) == 4
    again = evaluate(
        eval_config(endpoint_url=model.url, judge_endpoint_url=first.url, dk_bench_data=data), ["dk_bench"]
    )
    assert again.results[0].trained.overall == 3.0
    assert len(model.requests) == 4 and len(first.requests) == 4  # nothing asked twice
    assert len(opened) == 2, "a rerun with everything cached connects to no server at all"
    other = evaluate(
        eval_config(endpoint_url=model.url, judge_endpoint_url=second.url, dk_bench_data=data), ["dk_bench"]
    )
    assert other.results[0].trained.overall == 5.0
    assert len(model.requests) == 4 and len(second.requests) == 4
    assert len(opened) == 3, "a second judge: only the judge is needed"
    changed = evaluate(
        eval_config(endpoint_url=model.url, judge_endpoint_url=second.url, dk_bench_data=data, max_tokens=7),
        ["dk_bench"],
    )
    assert changed.results[0].trained.overall == 5.0 and len(model.requests) == 8  # new settings, new answers


def test_recall_held_out_scored_by_reference_and_judge(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    answers = {"When did the summit start?": "The summit started in 2019", "Who hosts it?": "nobody knows"}
    data = write_jsonl(
        tmp_path / "held.jsonl",
        [
            {
                "question": "When did the summit start?",
                "answer": "The summit started in 2019",
                "leaf": "knowledge_summit",
            },
            {"question": "Who hosts it?", "answer": "Red Hat hosts it"},
        ],
    )
    model = fake_pair(lambda r: answers[r["messages"][-1]["content"]])
    judge = fake_pair(lambda r: "Rating: [[5]]" if "2019" in user_text(r) else "Rating: [[1]]")
    report = evaluate(eval_config(endpoint_url=model.url, judge_endpoint_url=judge.url, recall_data=data), ["recall"])
    (result,) = report.results
    # learned: "2019" is the only key term of the first, "Red", "Hat" of the second (not in the answer)
    assert result.metric == "facts learned" and result.source == "held-out"
    assert result.trained.groups == {"knowledge_summit": 1.0, "held_out": 0.0}
    assert result.trained.extra["key_recall"] == pytest.approx(0.5)
    # exact match F1 1.0; "nobody knows" vs "red hat hosts it": no common token
    assert result.trained.extra["token_f1"] == pytest.approx(0.5)
    assert result.trained.extra["rouge_l"] == pytest.approx(0.5)
    assert result.trained.extra["judge_score"] == pytest.approx(3.0)  # a judge at an endpoint grades too
    assert result.judge == judge.url
    # asked without any document, after the one system prompt
    assert all([m["role"] for m in r["messages"]] == ["system", "user"] for r in model.requests)


def test_mt_bench_branch_per_leaf_with_new_leaves(
    skills_taxonomy: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    model, base = fake_pair(trained_model), fake_pair(base_model)
    judge = fake_pair(lambda r: "Score: 2" if "BASE says" in user_text(r) else "Rating: [[9]]")
    config = eval_config(
        endpoint_url=model.url,
        base_endpoint_url=base.url,
        judge_endpoint_url=judge.url,
        taxonomy_path=skills_taxonomy,
        taxonomy_base="base",
    )
    report = evaluate(config, ["mt_bench_branch"])
    (result,) = report.results
    synonyms = "compositional_skills_linguistics_synonyms"
    rewriting = "compositional_skills_grounded_linguistics_writing_rewriting"
    assert result.trained.groups == {rewriting: 9.0, synonyms: 9.0}
    assert result.base is not None and result.base.groups == {rewriting: 2.0, synonyms: 2.0}
    assert result.new_groups == [rewriting]
    summary = result.summary()
    assert summary["improved"] == [synonyms] and summary["new"] == [rewriting]
    grounded = [r for r in model.requests if "elucidation of the intricate" in r["messages"][-1]["content"]]
    assert grounded, "grounded skills are asked with their context"
    assert any("[Context the task refers to]" in user_text(r) for r in judge.requests)


def test_missing_data_is_skipped_with_one_line_reasons(
    eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taxolab.evaluation import mmlu

    monkeypatch.setattr(mmlu, "packaged_mmlu", lambda: None)
    model = fake_pair(trained_model)
    report = evaluate(eval_config(endpoint_url=model.url), ["dk_bench", "recall", "mmlu", "mmlu_branch"])
    assert report.results == []
    assert set(report.skipped) == {"dk_bench", "recall", "mmlu", "mmlu_branch"}
    assert all("\n" not in reason for reason in report.skipped.values())
    assert "mmlu needs data" in report.skipped["mmlu"]
    assert model.requests == []


def test_judge_that_is_also_the_model_is_served_once(
    tmp_path: Path,
    eval_config: Callable[..., Any],
    fake_pair: Callable[..., FakeOpenAIServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The packaged default judging itself: one server start for answers and judgments (spied, not mocked)."""
    from taxolab.evaluation import phases

    opened: list[Any] = []
    real_open = phases.open_endpoint

    def spy(target: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(target)
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(phases, "open_endpoint", spy)
    both = fake_pair(lambda r: "Rating: [[4]]" if "Reference answer" in user_text(r) else "an answer")
    data = write_jsonl(tmp_path / "dk.jsonl", [{"question": "Q?", "answer": "A"}])
    report = evaluate(eval_config(endpoint_url=both.url, judge_endpoint_url=both.url, dk_bench_data=data), ["dk_bench"])
    assert report.results[0].trained.overall == 4.0
    assert len(opened) == 1


@pytest.mark.parametrize("retry", [True, False])
def test_judge_forgetting_the_format_is_asked_once_more(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer], retry: bool
) -> None:
    def forgetful(request: dict[str, Any]) -> str:
        last = request["messages"][-1]["content"]
        return "Rating: [[4]]" if last.startswith("Reply with your rating only") else "A fine answer, mostly right."

    data = write_jsonl(tmp_path / "dk.jsonl", [{"question": "Q?", "answer": "A"}, {"question": "R?", "answer": "B"}])
    model, judge = fake_pair(trained_model), fake_pair(forgetful)
    config = eval_config(
        endpoint_url=model.url, judge_endpoint_url=judge.url, dk_bench_data=data, judge_format_retry=retry
    )
    (result,) = evaluate(config, ["dk_bench"]).results
    if retry:
        assert result.trained.overall == 4.0 and result.trained.extra["judge_error_rate"] == 0.0
        assert len(judge.requests) == 4 and judge.requests[-1]["messages"][-2]["role"] == "assistant"
    else:
        assert result.trained.overall is None and result.trained.extra["judge_error_rate"] == 1.0
        assert len(judge.requests) == 2
