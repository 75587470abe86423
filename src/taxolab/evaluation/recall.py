"""recall: does the model know the facts now, without the document in front of it?

The first thing a user asks after training on knowledge. Each knowledge
leaf's seed question-answer pairs (and any held-out pairs the user adds) are
asked *without* their context; the answers are graded 1-5 by a judge and,
judge-free, by overlap with the reference (token F1 and ROUGE-L), so a weak
judge cannot hide a real change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taxolab.errors import LocatedError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError, ItemRecord, JudgedBenchmark, JudgedItem
from taxolab.evaluation.overlap import rouge_l, token_f1
from taxolab.evaluation.prompts import judge_prompt
from taxolab.evaluation.results import mean
from taxolab.evaluation.runner import Conversation
from taxolab.evaluation.taxonomy_items import changed_leaves
from taxolab.fsio import iter_jsonl

HELD_OUT_GROUP = "held_out"


def load_held_out(path: Path) -> list[JudgedItem]:
    """Held-out pairs ``{question, answer, leaf?}``; ``leaf`` groups them with a taxonomy leaf."""
    items = []
    for where, row in iter_jsonl(path):
        number = where.line
        try:
            question, answer = str(row["question"]), str(row["answer"])
        except (KeyError, TypeError) as exc:
            raise LocatedError(where, f"recall rows need `question` and `answer`: {exc}") from None
        conv = Conversation(f"recall:held_out:{number}", (question,))
        items.append(JudgedItem(conv.key, str(row.get("leaf") or HELD_OUT_GROUP), conv, (answer,), question=question))
    return items


class Recall(JudgedBenchmark):
    name = "recall"
    metric = "judge score"
    scale = (1.0, 5.0)

    def load_items(self) -> list[JudgedItem]:
        self.prompt = judge_prompt("rubric_1_to_5")
        items: list[JudgedItem] = []
        try:
            leaves = [
                leaf for leaf in changed_leaves(self.ctx.taxonomy_root, self.ctx.taxonomy_base) if leaf.is_knowledge
            ]
        except BenchmarkUnavailableError:
            if self.ctx.settings.recall_data is None:
                raise
            leaves = []
        for leaf in leaves:
            for index, seed in enumerate(leaf.seed_examples):
                conv = Conversation(f"recall:{leaf.name}:{index}", (seed.question.strip(),))
                items.append(JudgedItem(conv.key, leaf.name, conv, (seed.answer,), question=seed.question))
        if self.ctx.settings.recall_data is not None:
            held_out = load_held_out(Path(self.ctx.settings.recall_data))
            items += held_out
            self.notes.append(f"{len(held_out)} held-out questions from {self.ctx.settings.recall_data}")
        if not items:
            raise BenchmarkUnavailableError(
                f"no changed knowledge leaves in {self.ctx.taxonomy_root} and no --recall-data: nothing to ask"
            )
        self.notes.append(f"{len(items)} questions from {len(leaves)} knowledge leaves, asked without their documents")
        return items

    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]:
        return self.prompt.messages(question=item.question, reference=item.references[0] or "", answer=answers[0])

    def extra_metrics(self, records: list[ItemRecord]) -> dict[str, float | None]:
        pairs = [(r.answer.turns[0], r.item.references[0] or "") for r in records if r.answer.turns]
        return {
            "token_f1": mean([token_f1(answer, ref) for answer, ref in pairs]),
            "rouge_l": mean([rouge_l(answer, ref) for answer, ref in pairs]),
        }

    def row(self, role: str, record: ItemRecord) -> dict[str, Any]:
        row = super().row(role, record)
        if record.answer.turns:
            reference = record.item.references[0] or ""
            row["token_f1"] = token_f1(record.answer.turns[0], reference)
            row["rouge_l"] = rouge_l(record.answer.turns[0], reference)
        return row
