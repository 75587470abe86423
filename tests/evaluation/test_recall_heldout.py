"""Held-out knowledge questions scored without a judge; training-set questions refused; verdicts and headlines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from taxolab.datarun import run_folder
from taxolab.evaluation.api import evaluate
from taxolab.evaluation.benchmark import BenchmarkUnavailableError, EvalContext
from taxolab.evaluation.cache import DiskCache
from taxolab.evaluation.datarun import TrainingQuestions
from taxolab.evaluation.keyfacts import key_terms, score_answer
from taxolab.evaluation.mmlu_branch import MmluBranch
from taxolab.evaluation.results import BenchmarkResult, Change, ModelScores
from taxolab.reports.eval_console import print_report
from taxolab.reports.eval_format import headline_rows, knowledge_headline
from taxolab.testing.fake_openai import FakeOpenAIServer

SYSTEM = "You are a helpful assistant. Answer accurately and concisely."

HELD_OUT = [
    {
        "question": "Which astronomer first charted the Telescope constellation?",
        "answer": "Telescopium was introduced by Nicolas-Louis de Lacaille in 1751.",
        "leaf": "knowledge_stars",
        "span_id": "0:0",
    },
    {
        "question": "What do chickadees hide for the winter?",
        "answer": "Chickadees cache seeds and insects in bark crevices.",
        "leaf": "knowledge_birds",
        "span_id": "0:1",
    },
    {
        "question": "How many eggs does a chickadee lay?",
        "answer": "A chickadee lays 6 to 8 eggs.",
        "leaf": "knowledge_birds",
        "span_id": "0:2",
    },
]
# What each model says: the trained one knows two facts, the base one none.
TRAINED = {
    HELD_OUT[0]["question"]: "It was charted by Lacaille in 1751.",
    HELD_OUT[1]["question"]: "They cache seeds and insects under bark.",
    HELD_OUT[2]["question"]: "It lays many eggs.",
}
BASE = {
    HELD_OUT[0]["question"]: "The Telescope constellation was charted by Galileo.",
    HELD_OUT[1]["question"]: "Chickadees hide nothing for the winter.",
    HELD_OUT[2]["question"]: "A chickadee lays eggs in spring.",
}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def sample(user: str, answer: str = "x", questions: list[str] | None = None) -> dict[str, Any]:
    """A training sample; ``questions``: mixing's record of what it trains (None: a row without the record)."""
    row: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user},
            {"role": "assistant", "content": answer},
        ]
    }
    if questions is not None:
        row["questions"] = questions
    return row


def data_run(root: Path, *, heldout: list[dict[str, Any]], trained_questions: list[str]) -> Path:
    """A data run folder as generation + mixing write it: heldout/, messages/ and a training mix."""
    run = root / "run"
    for leaf in sorted({row["leaf"] for row in heldout}):
        write_jsonl(run / "heldout" / f"{leaf}.jsonl", [row for row in heldout if row["leaf"] == leaf])
    closed = [sample(q, questions=[q]) for q in trained_questions]
    with_context = [
        sample(f"Use the documents below.\n\nDocument 1:\ntext\n\nQuestion: {q}", questions=[q])
        for q in trained_questions
    ]
    write_jsonl(run / "messages" / "knowledge_birds.jsonl", closed + with_context)
    write_jsonl(run / "knowledge_train_msgs_run.jsonl", closed)
    return run


def answering(answers: dict[str, str]) -> Callable[[dict[str, Any]], str]:
    return lambda request: answers.get(request["messages"][-1]["content"], "no idea")


# --- key content ---------------------------------------------------------------------------------


def test_key_terms_are_names_and_numbers_not_given_away_by_the_question() -> None:
    reference = "Telescopium was introduced by Nicolas-Louis de Lacaille in 1,751."
    # one name, held by any of its words; numbers compared without separators
    assert key_terms(reference, "Who introduced Telescopium?") == ("nicola loui lacaille", "1751")
    assert key_terms(reference, "Who was Lacaille?") == ("telescopium", "1751")
    # no names or numbers outside the question: distinctive content words instead
    assert key_terms("Chickadees cache seeds in bark crevices.", "What do chickadees store?") == (
        "cache",
        "seed",
        "bark",
        "crevice",
    )


def test_echoing_the_question_is_not_learning() -> None:
    reference = "Lacaille named the constellation Telescopium in 1751."
    echo = score_answer("Lacaille named the constellation after a telescope.", reference, "What did Lacaille name?")
    assert echo.token_f1 > 0.5 and echo.key_recall == 0.0 and not echo.learned
    right = score_answer("He named it Telescopium.", reference, "What did Lacaille name?")
    # "what did he name?" asks the name, not the year
    assert right.asked == ("telescopium",) and right.key_recall == 1.0 and right.learned
    # a reference with no key term left falls back to token F1 >= 0.5
    fallback = score_answer("the sky is blue", "The sky is blue.", "Is the sky blue?")
    assert fallback.key_recall is None and fallback.learned


# --- recall on held-out pairs ----------------------------------------------------------------------


def test_recall_asks_held_out_pairs_without_a_judge_and_refuses_training_questions(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    leaked = {"question": "Where do chickadees nest?", "answer": "In tree cavities.", "leaf": "knowledge_birds"}
    run = data_run(tmp_path, heldout=[*HELD_OUT, leaked], trained_questions=["Where do chickadees nest?"])
    model, base = fake_pair(answering(TRAINED)), fake_pair(answering(BASE))
    # no judge configured: the judge is the packaged default, too small to grade, so none is asked
    config = eval_config(endpoint_url=model.url, base_endpoint_url=base.url, tasks_dir=run / "test")
    report = evaluate(config, ["recall"])
    (result,) = report.results
    assert result.judge is None and result.source == "held-out"
    assert "refused: 1 in training set" in result.notes
    assert not any("nest" in r["messages"][-1]["content"] for r in model.requests)
    assert result.trained.counts == {"knowledge_stars": 1, "knowledge_birds": 2}
    assert result.trained.groups == {"knowledge_stars": 1.0, "knowledge_birds": 0.5}
    assert result.base is not None and result.base.overall == 0.0
    assert "judge_score" not in result.trained.extra and "answer_error_rate" not in result.trained.extra
    # 2 of 3 against 0 of 3: two discordant pairs are no evidence (exact McNemar p=0.5)
    assert (
        knowledge_headline(result)
        == "learned 2 of 3 held-out facts (base: 0 of 3; no significant change, exact McNemar p=0.500)"
    )
    assert result.verdict() == Change.UNCHANGED
    # the one system prompt first, then the question alone; short answers
    assert all([m["role"] for m in r["messages"]] == ["system", "user"] for r in model.requests)
    assert {r["messages"][0]["content"] for r in model.requests} == {config.mix.system_prompt}
    assert {r["max_tokens"] for r in model.requests} == {config.evaluate.recall_max_tokens}
    rows = [json.loads(line) for line in (report.output_dir / "recall.jsonl").read_text().splitlines()]
    first = next(r for r in rows if r["model"] == "trained" and r["question"] == HELD_OUT[0]["question"])
    # "Which astronomer...?" asks the name; the row says what was asked, what was found and why
    assert first["learned"] and first["asked_terms"] == ["nicola loui lacaille"]
    assert (
        first["key_terms_found"] == ["nicola loui lacaille"] and first["learned_reason"] == "holds 1 of 1 asked terms"
    )
    html = report.html_report.read_text() if report.html_report else ""
    assert "learned 2 of 3 held-out facts (base: 0 of 3; no significant change, exact McNemar p=0.500)" in html
    assert "both 0, only trained 2, only base 0, neither 1" in html


def test_recall_verdict_stands_when_the_judge_fails_on_every_answer(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    run = data_run(tmp_path, heldout=HELD_OUT, trained_questions=[])
    model, base = fake_pair(answering(TRAINED)), fake_pair(answering(BASE))
    judge = fake_pair(lambda r: "I cannot grade this.")
    config = eval_config(
        endpoint_url=model.url,
        base_endpoint_url=base.url,
        judge_endpoint_url=judge.url,
        judge_format_retry=False,
        tasks_dir=run,
    )
    (result,) = evaluate(config, ["recall"]).results
    assert result.trained.extra["judge_error_rate"] == 1.0 and result.trained.extra["judge_score"] is None
    assert result.trained.overall == pytest.approx(2 / 3)
    # three questions: no paired test can reject, and the verdict says so instead of "improved"
    assert result.verdict() == Change.UNCHANGED
    changes = {row[0]: row[4] for row in headline_rows(result)}
    assert changes["judge score (1-5)"] == "no score"
    assert changes["key-content recall"].startswith("no significant change (p=")


def test_recall_falls_back_to_seed_examples_labelled_as_seen_in_training(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    from taxolab.taxonomy.sample import write_sample

    root = write_sample(tmp_path / "taxonomy").taxonomy
    model = fake_pair(lambda r: "no idea")
    config = eval_config(endpoint_url=model.url, taxonomy_path=root, taxonomy_base="empty")
    (result,) = evaluate(config, ["recall"]).results
    assert result.source == "seed examples (seen in training)"
    assert any(note.startswith("seed examples (seen in training)") for note in result.notes)
    line = knowledge_headline(result)
    assert line is not None and line.startswith("recalled 0 of ") and "seed examples (seen in training)" in line


# --- mmlu_branch refuses training-set questions ----------------------------------------------------


def mcq(question: str, source: str) -> dict[str, Any]:
    return {"question": question, "choices": list("abcd"), "answer": 0, "leaf": "knowledge_birds", "source": source}


def eval_context(config: Any, tmp_path: Path) -> EvalContext:
    return EvalContext(
        settings=config.evaluate,
        output_dir=tmp_path / "out",
        cache=DiskCache(tmp_path / "cache"),
        taxonomy_root=tmp_path / "none",
        taxonomy_base="empty",
        datasets_dir=tmp_path / "datasets",
        model_labels={"trained": "t", "base": "b"},
    )


def test_mmlu_branch_refuses_training_set_questions_and_labels_the_source(
    tmp_path: Path, eval_config: Callable[..., Any]
) -> None:
    seeds = ["What colour is a chickadee's cap?", "Where do chickadees nest?"]
    run = data_run(tmp_path, heldout=HELD_OUT, trained_questions=seeds)
    write_jsonl(
        run / "test" / "knowledge_birds.jsonl",
        [
            mcq("What colour is a chickadee's cap?", "seed"),  # a closed-book training sample
            mcq("where do CHICKADEES nest", "seed"),  # the same text, normalised
            mcq(HELD_OUT[1]["question"], "heldout"),
            mcq(HELD_OUT[2]["question"], "heldout"),
            mcq("Which bird is the state bird of Maine?", "teacher"),
        ],
    )
    for tasks_dir in (run, run / "test", run / "test" / "knowledge_birds.jsonl"):
        assert run_folder(tasks_dir) == run
        bench = MmluBranch(eval_context(eval_config(tasks_dir=tasks_dir), tmp_path))
        kept = [HELD_OUT[1]["question"], HELD_OUT[2]["question"], "Which bird is the state bird of Maine?"]
        assert [q.question for q in bench.questions] == kept
        assert "refused: 2 in training set" in bench.notes
        assert "2 from held-out pairs (no teacher), 1 teacher-written" in bench.notes[0]


def test_mmlu_branch_with_only_training_questions_is_skipped_with_the_reason(
    tmp_path: Path, eval_config: Callable[..., Any], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    seeds = ["What colour is a chickadee's cap?", "Where do chickadees nest?"]
    run = data_run(tmp_path, heldout=HELD_OUT, trained_questions=seeds)
    write_jsonl(run / "test" / "knowledge_birds.jsonl", [mcq(q, "seed") for q in seeds])
    with pytest.raises(BenchmarkUnavailableError, match=r"all 2 questions .* are in the training set"):
        MmluBranch(eval_context(eval_config(tasks_dir=run), tmp_path))
    report = evaluate(eval_config(tasks_dir=run, endpoint_url=fake_pair(lambda r: "x").url), ["mmlu_branch"])
    assert "in the training set" in report.skipped["mmlu_branch"]


def test_training_questions_are_read_from_the_record_mixing_writes(tmp_path: Path) -> None:
    shown = "Use the documents below.\n\nDocument 1:\nblah\n\nQuestion: When did it start?"
    rows = [
        sample("Who wrote it?", questions=["Who wrote it?"]),
        sample(shown, questions=["When did it start?"]),
        {"messages": [{"role": "pretraining", "content": "Question: Is a passage a question?"}], "questions": []},
    ]
    seen = TrainingQuestions.of_files([write_jsonl(tmp_path / "knowledge_train_msgs_run.jsonl", rows)])
    assert "who wrote it" in seen and "When did it start?" in seen
    assert "Did it start?" not in seen and "Who wrote" not in seen
    assert "Is a passage a question?" not in seen  # the prompt text is never parsed
    assert shown not in seen  # only the recorded question, not the prompt around it


def test_training_rows_without_the_record_count_their_whole_user_message(tmp_path: Path) -> None:
    """The documented fallback for a mix written before mixing recorded questions: no "Question:" parsing."""
    rows = [sample("Who wrote it?"), sample("Document 1:\nblah\n\nQuestion: When did it start?")]
    seen = TrainingQuestions.of_files([write_jsonl(tmp_path / "old.jsonl", rows)])
    assert "Who wrote it?" in seen
    assert "When did it start?" not in seen


# --- verdicts and headlines ---------------------------------------------------------------------------


def judged_result(token_f1: float) -> BenchmarkResult:
    """A judged benchmark of 20 questions whose judge failed on every answer: no judge score on either side.

    Base token F1 per question alternates 0.11/0.21 (mean 0.16); trained is base + ``token_f1 - 0.16``
    with a +-0.02 wobble, so a shift of 0.10 is far beyond chance and one of 0.02 is not.
    """
    shift = token_f1 - 0.16
    trained = ModelScores("t", None, {"set": None}, {"set": 20}, {"judge_error_rate": 1.0, "token_f1": token_f1})
    base = ModelScores("b", None, {"set": None}, {"set": 20}, {"judge_error_rate": 1.0, "token_f1": 0.16})
    for i in range(20):
        b = 0.11 if i % 2 else 0.21
        base.add_item(f"q{i}", "set", overall=None, token_f1=b)
        trained.add_item(f"q{i}", "set", overall=None, token_f1=b + shift + (0.02 if i % 4 < 2 else -0.02))
    return BenchmarkResult(benchmark="dk_bench", metric="judge score", scale=(1.0, 5.0), trained=trained, base=base)


def test_a_moved_reference_metric_is_never_reported_unchanged() -> None:
    result = judged_result(token_f1=0.26)
    assert result.comparison()[0].change == Change.NO_SCORE
    assert result.verdict() == Change.IMPROVED
    rows = {row[0]: row for row in headline_rows(result)}
    assert rows["token F1"][3].startswith("+0.100 [+0.0") and rows["token F1"][4] == "improved (p<0.001)"
    assert rows["overall judge score"][4] == "no score"
    assert rows["judge error rate"][4] == ""
    # a shift inside the noise is no change; a real drop is "worse"
    assert judged_result(token_f1=0.165).verdict() == Change.UNCHANGED
    assert judged_result(token_f1=0.05).verdict() == Change.REGRESSED
    data = judged_result(token_f1=0.26).to_json()
    assert data["verdict"] == "improved"
    assert {m["name"]: m["change"] for m in data["metrics"]}["token_f1"] == "improved"


def test_console_report_leads_with_the_knowledge_headline() -> None:
    from taxolab.evaluation.results import EvaluationReport

    trained = ModelScores("t", 0.4, {"leaf": 0.4}, {"leaf": 20}, {"token_f1": 0.3})
    base = ModelScores("b", 0.05, {"leaf": 0.05}, {"leaf": 20}, {"token_f1": 0.1})
    for i in range(20):  # base knows question 0; trained questions 0-7
        base.add_item(f"q{i}", "leaf", overall=float(i == 0), token_f1=0.1)
        trained.add_item(f"q{i}", "leaf", overall=float(i < 8), token_f1=0.3)
    recall = BenchmarkResult(
        benchmark="recall", metric="facts learned", scale=(0.0, 1.0), trained=trained, base=base, source="held-out"
    )
    report = EvaluationReport("t", "b", Path("out"), results=[judged_result(token_f1=0.2), recall])
    console = Console(record=True, width=120)
    print_report(report, console)
    text = console.export_text()
    assert text.splitlines()[0] == "learned 8 of 20 held-out facts (base: 1 of 20; learned, exact McNemar p=0.016)"
    assert "+7 [+3, +11]" in text
    assert "1/20" in text and "8/20" in text and "verdict: improved" in text
    assert "both 1, only trained 7, only base 0, neither 12 (exact McNemar p=0.016)" in text


# --- the evaluate stage of `taxolab run` ----------------------------------------------------------


def test_run_evaluate_stage_asks_held_out_pairs_and_refuses_trained_mcqs(
    tmp_path: Path,
    tiny_models: list[Path],
    fake_pair: Callable[..., FakeOpenAIServer],
) -> None:
    """The default benchmarks on a mix folder: recall on heldout/ without a judge, mmlu_branch on unseen MCQs."""
    from taxolab.config import load_config
    from taxolab.workflow.model_steps import evaluate_models

    seeds = ["Where do chickadees nest?"]
    mix = data_run(tmp_path, heldout=HELD_OUT, trained_questions=seeds)
    write_jsonl(
        mix / "test" / "knowledge_birds.jsonl",
        [mcq(seeds[0], "seed"), mcq(HELD_OUT[1]["question"], "heldout"), mcq(HELD_OUT[2]["question"], "heldout")],
    )
    model, base = fake_pair(answering(TRAINED)), fake_pair(answering(BASE))
    config = load_config(
        None,
        {
            "models": {"student": str(tiny_models[1])},
            "evaluate": {
                "endpoint_url": model.url,
                "base_endpoint_url": base.url,
                "cache_dir": str(tmp_path / "cache"),
            },
        },
    )
    out = tmp_path / "evaluation"
    outputs = evaluate_models(
        config,
        tiny_models[0],
        test_dir=mix / "test",
        taxonomy_root=tmp_path / "no-taxonomy",
        taxonomy_base="empty",
        benchmarks=list(config.evaluate.benchmarks),
        out_dir=out,
    )
    assert set(outputs["overall"]) == {"mmlu_branch", "recall"}, outputs["skipped"]
    results = json.loads((out / "results.json").read_text())["results"]
    assert results["recall"]["source"] == "held-out" and results["recall"]["judge"] is None
    assert "refused: 1 in training set" in results["mmlu_branch"]["notes"]
    assert results["mmlu_branch"]["trained"]["counts"] == {"knowledge_birds": 2}
    from taxolab.reports.run_report import headlines_of

    assert headlines_of(out / "results.json") == [
        "learned 2 of 3 held-out facts (base: 0 of 3; no significant change, exact McNemar p=0.500)"
    ]


def test_run_report_leads_with_the_knowledge_headline(tmp_path: Path) -> None:
    from taxolab import fsio
    from taxolab.evaluation.results import EvaluationReport
    from taxolab.reports.run_report import write_run_report
    from taxolab.workflow.layout import RunLayout
    from taxolab.workflow.manifest import RunManifest, StageRecord

    recall = BenchmarkResult(
        benchmark="recall",
        metric="facts learned",
        scale=(0.0, 1.0),
        trained=ModelScores("t", 0.25, {"leaf": 0.25}, {"leaf": 40}, {"key_recall": 0.3}),
        base=ModelScores("b", 0.0, {"leaf": 0.0}, {"leaf": 40}, {"key_recall": 0.02}),
        source="held-out",
    )
    results = tmp_path / "results.json"
    fsio.write_json(results, EvaluationReport("t", "b", tmp_path, [recall]).to_json())
    layout = RunLayout(tmp_path / "run")
    manifest = RunManifest.load(layout.root)
    manifest.info.update(profile={"name": "cpu-small", "summary": "small"}, options={"taxonomy_base": "empty"})
    manifest.stages["evaluate"] = StageRecord("h", {"results": str(results)}, 0.0, 1.0)
    html = write_run_report(layout, manifest, chat_command="taxolab model chat").read_text()
    headline = "learned 10 of 40 held-out facts (base: 0 of 40)"
    assert html.index(headline) < html.index("Chat with the trained model")
    assert "10/40" in html and "key-content recall" in html
