"""What every benchmark shares, and the judged kind (a model answers, a judge grades).

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
import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab import fsio
from taxolab.errors import TaxolabError
from taxolab.evaluation.cache import DiskCache
from taxolab.evaluation.results import BenchmarkResult, ModelScores, mean
from taxolab.evaluation.runner import Answer, BenchmarkQuestion, JudgeRequest, Judgment

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
    judge_is_default: bool = False  # the judge is the packaged 135M default model
    system_prompt: str | None = None  # mix.system_prompt: sent first in every question a model answers


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
            alpha=self.ctx.settings.significance,
            **extra,
        )

    def output_path(self, suffix: str) -> Path:
        return self.ctx.output_dir / f"{self.name}{suffix}"


@dataclass(frozen=True)
class JudgedItem:
    """One question (one or more turns) to answer, with references per turn when there are any."""

    key: str
    group: str
    conversation: BenchmarkQuestion
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
    uses_judge = True  # False: scored without a judge (no request is sent to it)
    judge_scale: tuple[float, float] | None = None  # the judge's scale when it differs from the benchmark's

    def __init__(self, ctx: EvalContext) -> None:
        super().__init__(ctx)
        self.items = self.load_items()

    @property
    def max_tokens(self) -> int:
        """Longest answer a model may write for this benchmark (``evaluate.max_tokens``)."""
        return self.ctx.settings.max_tokens

    @abstractmethod
    def load_items(self) -> list[JudgedItem]: ...

    @abstractmethod
    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]: ...

    def needs_generation(self, role: str) -> list[BenchmarkQuestion]:
        """Conversations the model in ``role`` must answer (items with given answers need none).

        A conversation without its own system message gets ``mix.system_prompt``,
        so the model is asked the way it was trained.
        """
        system = self.ctx.system_prompt
        return [
            dataclasses.replace(item.conversation, system=item.conversation.system or system)
            for item in self.items
            if role not in item.given_answers
        ]

    def given_answers(self, role: str) -> dict[str, Answer]:
        return {
            item.conversation.key: Answer(item.given_answers[role]) for item in self.items if role in item.given_answers
        }

    def judge_requests(self, role: str, answers: dict[str, Answer]) -> list[JudgeRequest]:
        if not self.uses_judge:
            return []
        requests = []
        for item in self.items:
            answer = answers[item.conversation.key]
            for turn in self._turns(item):
                if turn < len(answer.turns):
                    messages = self.judge_messages(item, answer.turns, turn)
                    scale = self.judge_scale or self.scale
                    requests.append(JudgeRequest(_judge_key(role, item, turn), messages, *scale))
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
        """Mean judge score per group and overall; unparseable verdicts and failed answers are rates, not zeros."""
        per_group: dict[str, list[float]] = {r.item.group: [] for r in records}
        judged = unparsed = unanswered = 0
        for record in records:
            for judgment in record.judgments:
                if judgment is None:
                    unanswered += 1
                    continue
                judged += 1
                if judgment.score is None:
                    unparsed += 1
                else:
                    per_group[record.item.group].append(judgment.score)
        groups = {group: mean(values) for group, values in per_group.items()}
        counts = {group: sum(1 for r in records if r.item.group == group) for group in groups}
        overall = mean([score for values in per_group.values() for score in values])
        extra: dict[str, float | None] = {"judge_error_rate": unparsed / judged if judged else None}
        if unanswered:
            extra["answer_error_rate"] = unanswered / (judged + unanswered)
        extra.update(self.extra_metrics(records))
        scores = ModelScores(self.ctx.model_labels[role], overall, groups, counts, extra)
        for record in records:
            readable = [s for s in record.scores if s is not None]
            scores.add_item(record.item.key, record.item.group, overall=mean(readable), **self.item_extras(record))
        return scores

    def extra_metrics(self, records: list[ItemRecord]) -> dict[str, float | None]:
        return {}

    def item_extras(self, record: ItemRecord) -> dict[str, float | None]:
        """One question's values of the extras that have one (paired tests compare them question by question)."""
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
            "judge": self.ctx.judge_label if self.uses_judge else None,
        }

    def finish(self, records: dict[str, list[ItemRecord]]) -> BenchmarkResult:
        scores = {role: self.model_scores(role, recs) for role, recs in records.items()}
        path = self.output_path(".jsonl")
        rows = [self.row(role, rec) for role, recs in records.items() for rec in recs]
        fsio.write_jsonl(path, rows)
        judge = self.ctx.judge_label if self.uses_judge else None
        return self.result(scores, judge=judge, files={"rows": path, **self.extra_files(rows)})

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
