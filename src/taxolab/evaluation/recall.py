"""recall: does the model know the facts now, without the document in front of it?

The first thing a user asks after training on knowledge, answered on
questions the model never saw: data generation holds one phrasing of each
source span out of training (``heldout/<leaf>.jsonl`` of the data run, whose
reference answer is the span itself); here each model answers them
closed-book, after ``mix.system_prompt``, and every answer is scored
against its span without a judge (:mod:`taxolab.evaluation.keyfacts`):
key-content recall (names, numbers, distinctive words not given away by the
question), token F1 and ROUGE-L. A fact is *learned* by the rule of
:func:`taxolab.evaluation.keyfacts.score_answer`; the headline is "learned X of
N held-out facts". A judge, when one is able to grade (any judge but the
packaged 135M default, or ``evaluate.recall_judge: always``), adds its 1-5
grade; its failure never leaves recall without a score.

Questions come from, in order: the data run's held-out pairs (the run of
``--tasks-dir``, else the newest data run that has any) and the user's
``--recall-data`` rows. With neither, the changed knowledge leaves' seed
questions are asked instead, labelled "seed examples (seen in training)":
they measure memorisation, not new knowledge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taxolab.datarun import HELDOUT, DataRun, newest_run, run_folder
from taxolab.errors import LocatedError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError, ItemRecord, JudgedBenchmark, JudgedItem
from taxolab.evaluation.datarun import TrainingQuestions, split_note
from taxolab.evaluation.keyfacts import LEARNED_THRESHOLD, score_answer
from taxolab.evaluation.overlap import rouge_l
from taxolab.evaluation.prompts import judge_prompt
from taxolab.evaluation.results import LEARNED_METRIC, SOURCE_HELD_OUT, BenchmarkResult, ModelScores, mean
from taxolab.evaluation.runner import BenchmarkQuestion
from taxolab.evaluation.taxonomy_items import changed_leaves
from taxolab.fsio import iter_jsonl

HELD_OUT_GROUP = "held_out"
SOURCE_SEEDS = "seed examples (seen in training)"
LEARNED_RULE = (
    f"learned = the answer holds >= {LEARNED_THRESHOLD:g} of the key names/numbers the question asks for "
    "(not those it gives away), without doubt words, guess lists or a flipped negation; yes/no questions by polarity"
)


def load_held_out(path: Path, *, prefix: str = "held_out") -> list[JudgedItem]:
    """Held-out pairs ``{question, answer, leaf?}``; ``leaf`` groups them with a taxonomy leaf."""
    items = []
    for where, row in iter_jsonl(path):
        number = where.line
        try:
            question, answer = str(row["question"]), str(row["answer"])
        except (KeyError, TypeError) as exc:
            raise LocatedError(where, f"recall rows need `question` and `answer`: {exc}") from None
        conv = BenchmarkQuestion(f"recall:{prefix}:{number}", (question,))
        items.append(JudgedItem(conv.key, str(row.get("leaf") or HELD_OUT_GROUP), conv, (answer,), question=question))
    return items


class Recall(JudgedBenchmark):
    name = "recall"
    metric = LEARNED_METRIC
    scale = (0.0, 1.0)
    judge_scale = (1.0, 5.0)

    def load_items(self) -> list[JudgedItem]:
        self.prompt = judge_prompt("rubric_1_to_5")
        choice = self.ctx.settings.recall_judge
        self.uses_judge = choice == "always" or (choice == "auto" and not self.ctx.judge_is_default)
        folder = self._data_run()
        items: list[JudgedItem] = []
        if folder is not None:
            for file in DataRun(folder).files(HELDOUT):
                items += load_held_out(file, prefix=f"heldout:{file.stem}")
            if items:
                self.notes.append(f"{len(items)} held-out pairs from {DataRun(folder).part(HELDOUT)}")
                note = split_note(folder, HELDOUT)
                if note:
                    self.notes.append(note)
        if self.ctx.settings.recall_data is not None:
            path = Path(self.ctx.settings.recall_data)
            if not path.is_file():
                raise BenchmarkUnavailableError(f"{path}: recall data file not found (--recall-data)")
            own = load_held_out(path)
            items += own
            self.notes.append(f"{len(own)} questions of yours from {path}")
        if items:
            self.source = SOURCE_HELD_OUT
            items = self._refuse_trained(items, folder)
        else:
            self.source = SOURCE_SEEDS
            items = self._seed_items()
        self.notes.append(
            "asked closed-book (no document)"
            + ("" if self.uses_judge else "; no judge (scored against the reference only)")
            + f"; {LEARNED_RULE}"
        )
        return items

    def _data_run(self) -> Path | None:
        """The data run whose held-out pairs to ask: the one of --tasks-dir, else the newest with any."""
        tasks = self.ctx.settings.tasks_dir
        if tasks is not None:
            return run_folder(Path(tasks))
        return newest_run(self.ctx.datasets_dir, HELDOUT)

    def _refuse_trained(self, items: list[JudgedItem], folder: Path | None) -> list[JudgedItem]:
        """Drop (and count in the notes) questions the run's training files train (:class:`TrainingQuestions`)."""
        if folder is None:
            return items
        seen = TrainingQuestions.of_run(folder)
        kept = [item for item in items if item.question not in seen]
        if len(kept) < len(items):
            self.notes.append(f"refused: {len(items) - len(kept)} in training set")
        if not kept:
            raise BenchmarkUnavailableError(f"every recall question is in the training set of {folder} (refused)")
        return kept

    def _seed_items(self) -> list[JudgedItem]:
        try:
            leaves = [
                leaf for leaf in changed_leaves(self.ctx.taxonomy_root, self.ctx.taxonomy_base) if leaf.is_knowledge
            ]
        except BenchmarkUnavailableError:
            leaves = []
        items = []
        for leaf in leaves:
            for index, seed in enumerate(leaf.seed_examples):
                conv = BenchmarkQuestion(f"recall:{leaf.name}:{index}", (seed.question.strip(),))
                items.append(JudgedItem(conv.key, leaf.name, conv, (seed.answer,), question=seed.question))
        if not items:
            raise BenchmarkUnavailableError(
                f"no held-out pairs (run `taxolab data generate` or pass --tasks-dir), no --recall-data and "
                f"no changed knowledge leaves in {self.ctx.taxonomy_root}: nothing to ask"
            )
        self.notes.append(
            f"{SOURCE_SEEDS}: {len(items)} seed questions of {len(leaves)} knowledge leaves, "
            "in the training set: this measures memorisation, not new knowledge"
        )
        return items

    @property
    def max_tokens(self) -> int:
        return self.ctx.settings.recall_max_tokens

    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]:
        return self.prompt.messages(question=item.question, reference=item.references[0] or "", answer=answers[0])

    def model_scores(self, role: str, records: list[ItemRecord]) -> ModelScores:
        """Share of facts learned per leaf and overall; key recall, token F1, ROUGE-L (and judge grade) as extras."""
        scores = super().model_scores(role, records)
        judge_score, judge_errors = scores.overall, scores.extra.get("judge_error_rate")
        learned: dict[str, list[float]] = {r.item.group: [] for r in records}
        recalls, f1s, rouges = [], [], []
        items: list[tuple[JudgedItem, dict[str, float | None]]] = []
        for record in records:
            answer, reference = _answer(record), record.item.references[0] or ""
            score = score_answer(answer, reference, record.item.question)
            learned[record.item.group].append(float(score.learned))
            if score.key_recall is not None:
                recalls.append(score.key_recall)
            f1s.append(score.token_f1)
            rouge = rouge_l(answer, reference)
            rouges.append(rouge)
            graded = [s for s in record.scores if s is not None]
            values = {
                "overall": float(score.learned),
                "key_recall": score.key_recall,
                "token_f1": score.token_f1,
                "rouge_l": rouge,
                "judge_score": mean(graded) if self.uses_judge else None,
            }
            items.append((record.item, values))
        scores.overall = mean([v for values in learned.values() for v in values])
        scores.groups = {group: mean(values) for group, values in learned.items()}
        extra: dict[str, float | None] = {
            "key_recall": mean(recalls),
            "token_f1": mean(f1s),
            "rouge_l": mean(rouges),
        }
        if self.uses_judge:
            extra.update(judge_score=judge_score, judge_error_rate=judge_errors)
        unanswered = sum(1 for record in records if not record.answer.turns)
        if unanswered:
            extra["answer_error_rate"] = unanswered / len(records)
        scores.extra = extra
        scores.items, scores.item_groups = {}, {}
        for item, values in items:
            scores.add_item(item.key, item.group, **values)
        return scores

    def result(self, scores: dict[str, ModelScores], **extra: Any) -> BenchmarkResult:
        return super().result(scores, source=self.source, **extra)

    def row(self, role: str, record: ItemRecord) -> dict[str, Any]:
        row = super().row(role, record)
        answer, reference = _answer(record), record.item.references[0] or ""
        score = score_answer(answer, reference, record.item.question)
        row.update(
            question=record.item.question,
            reference=reference,
            key_terms=list(score.key_terms),
            key_terms_found=list(score.found),
            key_recall=score.key_recall,
            token_f1=score.token_f1,
            rouge_l=rouge_l(answer, reference),
            learned=score.learned,
            learned_reason=score.reason,
            asked_terms=list(score.asked),
            question_kind=score.kind,
            source=self.source,
        )
        return row


def _answer(record: ItemRecord) -> str:
    return record.answer.turns[0] if record.answer.turns else ""
