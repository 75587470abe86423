"""Multiple-choice benchmarks scored by log-likelihood with the model's weights (mmlu_branch, mmlu).

The prompt is MMLU's: a subject line, the question, the lettered choices and
"Answer:"; the model's pick is the letter (or, with ``mcq_scoring: text``, the
choice text) it finds most likely. Accuracy is kept per group (leaf or subject)
so a user sees which knowledge moved.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from taxolab import fsio
from taxolab.evaluation.benchmark import Benchmark, EvalContext
from taxolab.evaluation.cache import DiskCache, cache_key
from taxolab.evaluation.loglik import ChoiceRequest, LoglikScorer
from taxolab.evaluation.results import BenchmarkResult, ModelScores


@dataclass(frozen=True)
class ChoiceQuestion:
    """A multiple-choice question with its right answer's index and its group (leaf or subject)."""

    question: str
    choices: tuple[str, ...]
    answer: int
    group: str
    source: str = ""  # "heldout" (built from held-out pairs), "teacher" (MCQ pipeline), "" (unknown)


LETTERS = "ABCDEFGHIJ"


def choice_request(question: ChoiceQuestion, mode: str, subject: str) -> ChoiceRequest:
    """MMLU-style prompt: score the letter after the listed choices, or each choice's text."""
    if mode == "text":
        return ChoiceRequest(
            f"Question: {question.question.strip()}\nAnswer:", tuple(f" {c.strip()}" for c in question.choices)
        )
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

    def score_model(self, role: str, get_scorer: Callable[[], LoglikScorer], model_id: str) -> None:
        """Score every question (cached per model identity and prompt; weights loaded only if needed), aggregate."""
        requests = [choice_request(q, self.ctx.settings.mcq_scoring, self.subject(q.group)) for q in self.questions]
        loglik = cached_scores(get_scorer, requests, model_id, self.ctx.cache, label=f"{self.name} ({role})")
        rows = []
        hits: list[tuple[str, str, float]] = []
        for index, (question, values) in enumerate(zip(self.questions, loglik, strict=True)):
            chosen = max(range(len(values)), key=values.__getitem__)
            hit = float(chosen == question.answer)
            hits.append((f"{question.group}:{index}", question.group, hit))
            rows.append(
                {
                    "group": question.group,
                    "question": question.question,
                    "answer": question.answer,
                    "chosen": chosen,
                    "loglik": values,
                }
            )
        self.rows[role] = rows
        self.scores[role] = ModelScores.of_items(self.ctx.model_labels[role], hits)

    def finish(self) -> BenchmarkResult:
        path = self.output_path(".jsonl")
        fsio.write_jsonl(path, ({"model": role, **row} for role, rows in self.rows.items() for row in rows))
        return self.result(self.scores, files={"rows": path})


def cached_scores(
    get_scorer: Callable[[], LoglikScorer],
    requests: list[ChoiceRequest],
    model_id: str,
    cache: DiskCache,
    *,
    label: str,
) -> list[list[float]]:
    """Log-likelihoods from the cache where this model already scored this exact prompt, the rest computed."""
    keys = [cache_key("loglik", model_id, r.context, list(r.continuations)) for r in requests]
    found = [cache.get("loglik", key) for key in keys]
    missing = [i for i, value in enumerate(found) if value is None]
    if missing:
        fresh = get_scorer().score([requests[i] for i in missing], label=label)
        for i, values in zip(missing, fresh, strict=True):
            cache.put("loglik", keys[i], values)
            found[i] = values
    return [list(values) for values in found if values is not None]
