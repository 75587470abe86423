"""The two kinds of benchmark and what they share.

*Log-likelihood* benchmarks (mmlu_branch, mmlu) score multiple-choice
questions with the model's weights. *Judged* benchmarks (mt_bench,
mt_bench_branch, dk_bench, recall) have a served model answer questions and a
judge grade the answers. The orchestrator (:mod:`taxolab.evaluation.api`)
loads each model's weights once for every log-likelihood benchmark, starts
each model's server once for every judged benchmark, and the judge once for
all judging: on a laptop, starting servers is a large part of the time.
"""

from __future__ import annotations

import csv
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab import fsio
from taxolab.errors import TaxolabError
from taxolab.evaluation.cache import DiskCache
from taxolab.evaluation.loglik import ChoiceRequest, LoglikScorer
from taxolab.evaluation.results import BenchmarkResult, ModelScores, mean
from taxolab.evaluation.runner import Answer, Conversation, JudgeRequest, Judgment

if TYPE_CHECKING:
    from taxolab.evaluation.settings import EvaluateSettings

ROLES = ("trained", "base")


class BenchmarkUnavailableError(TaxolabError):
    """The benchmark cannot run here (no data, missing extra); the reason is one line for the report."""


@dataclass
class EvalContext:
    """Everything a benchmark may need besides the models themselves."""

    settings: EvaluateSettings
    output_dir: Path
    cache: DiskCache
    taxonomy_root: Path
    taxonomy_base: str
    datasets_dir: Path
    model_labels: dict[str, str] = field(default_factory=dict)
    judge_label: str | None = None


class Benchmark(ABC):
    name: str
    metric: str
    scale: tuple[float, float]
    group_label = "leaf"

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.notes: list[str] = []
        self.new_groups: list[str] = []

    def result(self, scores: dict[str, ModelScores], **extra: Any) -> BenchmarkResult:
        return BenchmarkResult(
            benchmark=self.name,
            metric=self.metric,
            scale=self.scale,
            trained=scores["trained"],
            base=scores.get("base"),
            group_label=self.group_label,
            notes=self.notes,
            new_groups=self.new_groups,
            min_delta=self.ctx.settings.min_delta,
            **extra,
        )

    def output_path(self, suffix: str) -> Path:
        return self.ctx.output_dir / f"{self.name}{suffix}"


# --------------------------------------------------------------------------- log-likelihood


@dataclass(frozen=True)
class ChoiceQuestion:
    """A multiple-choice question with its right answer's index and its group (leaf or subject)."""

    question: str
    choices: tuple[str, ...]
    answer: int
    group: str


LETTERS = "ABCDEFGHIJ"


def choice_request(question: ChoiceQuestion, mode: str, subject: str) -> ChoiceRequest:
    """MMLU-style prompt: score the letter after the listed choices, or each choice's text."""
    if mode == "text":
        return ChoiceRequest(f"Question: {question.question.strip()}\nAnswer:", tuple(f" {c.strip()}" for c in question.choices))
    listed = "\n".join(f"{LETTERS[i]}. {c.strip()}" for i, c in enumerate(question.choices))
    header = f"The following are multiple choice questions (with answers) about {subject}.\n\n"
    context = f"{header}{question.question.strip()}\n{listed}\nAnswer:"
    return ChoiceRequest(context, tuple(f" {LETTERS[i]}" for i in range(len(question.choices))))


class LoglikBenchmark(Benchmark):
    metric = "accuracy"
    scale = (0.0, 1.0)

    def __init__(self, ctx: EvalContext) -> None:
        super().__init__(ctx)
        self.questions = self.load_questions()
        self.scores: dict[str, ModelScores] = {}
        self.rows: dict[str, list[dict[str, Any]]] = {}

    @abstractmethod
    def load_questions(self) -> list[ChoiceQuestion]: ...

    def subject(self, group: str) -> str:
        return group.replace("_", " ")

    def score_model(self, role: str, scorer: LoglikScorer) -> None:
        requests = [choice_request(q, self.ctx.settings.mcq_scoring, self.subject(q.group)) for q in self.questions]
        loglik = scorer.score(requests, label=f"{self.name} ({role})")
        correct: dict[str, list[float]] = {}
        rows = []
        for question, values in zip(self.questions, loglik, strict=True):
            chosen = max(range(len(values)), key=values.__getitem__)
            hit = float(chosen == question.answer)
            correct.setdefault(question.group, []).append(hit)
            rows.append({"group": question.group, "question": question.question, "answer": question.answer,
                         "chosen": chosen, "loglik": values})
        self.rows[role] = rows
        groups = {group: mean(values) for group, values in correct.items()}
        counts = {group: len(values) for group, values in correct.items()}
        overall = mean([hit for values in correct.values() for hit in values])
        self.scores[role] = ModelScores(self.ctx.model_labels[role], overall, groups, counts)

    def finish(self) -> BenchmarkResult:
        path = self.output_path(".jsonl")
        fsio.write_jsonl(path, ({"model": role, **row} for role, rows in self.rows.items() for row in rows))
        return self.result(self.scores, files={"rows": path})


# --------------------------------------------------------------------------- judged


@dataclass(frozen=True)
class JudgedItem:
    """One question (one or more turns) to answer, with references per turn when there are any."""

    key: str
    group: str
    conversation: Conversation
    references: tuple[str | None, ...] = ()
    context: str | None = None
    question: str = ""
    given_answers: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class ItemRecord:
    """What happened to one item for one model: its answers and each turn's judgment."""

    item: JudgedItem
    answer: Answer
    judgments: list[Judgment | None]

    @property
    def scores(self) -> list[float | None]:
        return [j.score if j is not None else None for j in self.judgments]


class JudgedBenchmark(Benchmark):
    """Answer items with each model, judge every turn, average the scores per group."""

    judged_turns: tuple[int, ...] | None = None

    def __init__(self, ctx: EvalContext) -> None:
        super().__init__(ctx)
        self.items = self.load_items()

    @abstractmethod
    def load_items(self) -> list[JudgedItem]: ...

    @abstractmethod
    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]: ...

    def needs_generation(self, role: str) -> list[Conversation]:
        """Conversations the model in ``role`` must answer (items with given answers need none)."""
        return [item.conversation for item in self.items if role not in item.given_answers]

    def given_answers(self, role: str) -> dict[str, Answer]:
        return {item.conversation.key: Answer(item.given_answers[role]) for item in self.items if role in item.given_answers}

    def judge_requests(self, role: str, answers: dict[str, Answer]) -> list[JudgeRequest]:
        requests = []
        for item in self.items:
            answer = answers[item.conversation.key]
            for turn in self._turns(item):
                if turn < len(answer.turns):
                    messages = self.judge_messages(item, answer.turns, turn)
                    requests.append(JudgeRequest(_judge_key(role, item, turn), messages, *self.scale))
        return requests

    def records(self, role: str, answers: dict[str, Answer], judgments: dict[str, Judgment]) -> list[ItemRecord]:
        return [
            ItemRecord(
                item,
                answers[item.conversation.key],
                [judgments.get(_judge_key(role, item, turn)) for turn in self._turns(item)],
            )
            for item in self.items
        ]

    def _turns(self, item: JudgedItem) -> tuple[int, ...]:
        turns = range(len(item.conversation.turns))
        return tuple(t for t in turns if self.judged_turns is None or t in self.judged_turns)

    def model_scores(self, role: str, records: list[ItemRecord]) -> ModelScores:
        per_group: dict[str, list[float]] = {}
        all_scores: list[float] = []
        failures = 0
        total = 0
        for record in records:
            for score in record.scores:
                total += 1
                if score is None:
                    failures += 1
                    continue
                per_group.setdefault(record.item.group, []).append(score)
                all_scores.append(score)
        groups: dict[str, float | None] = {r.item.group: None for r in records}
        groups.update({group: mean(values) for group, values in per_group.items()})
        counts = {group: sum(1 for r in records if r.item.group == group) for group in groups}
        extra: dict[str, float | None] = {"judge_error_rate": failures / total if total else None}
        extra.update(self.extra_metrics(records))
        return ModelScores(self.ctx.model_labels[role], mean(all_scores), groups, counts, extra)

    def extra_metrics(self, records: list[ItemRecord]) -> dict[str, float | None]:
        return {}

    def row(self, role: str, record: ItemRecord) -> dict[str, Any]:
        """One output line: enough to audit a score without rerunning anything."""
        return {
            "model": role,
            "model_name": self.ctx.model_labels[role],
            "id": record.item.conversation.key,
            self.group_label: record.item.group,
            "turns": list(record.item.conversation.turns),
            "references": list(record.item.references),
            "answers": list(record.answer.turns),
            "answer_error": record.answer.error,
            "scores": record.scores,
            "judgments": [j.text if j else None for j in record.judgments],
            "judge": self.ctx.judge_label,
        }

    def finish(self, records: dict[str, list[ItemRecord]]) -> BenchmarkResult:
        scores = {role: self.model_scores(role, recs) for role, recs in records.items()}
        path = self.output_path(".jsonl")
        rows = [self.row(role, rec) for role, recs in records.items() for rec in recs]
        fsio.write_jsonl(path, rows)
        return self.result(scores, judge=self.ctx.judge_label, files={"rows": path, **self.extra_files(rows)})

    def extra_files(self, rows: list[dict[str, Any]]) -> dict[str, Path]:
        return {}

    def write_csv(self, rows: list[dict[str, Any]], columns: list[str]) -> Path:
        path = self.output_path(".csv")
        with fsio.atomic_open(path, "w") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({key: _flat(row.get(key)) for key in columns})
        return path


def _judge_key(role: str, item: JudgedItem, turn: int) -> str:
    return f"{role}\x1f{item.conversation.key}\x1f{turn}"


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if len(value) == 1 else " | ".join("" if v is None else str(v) for v in value)
    return value
