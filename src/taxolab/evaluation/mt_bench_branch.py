"""mt_bench_branch: did the new skills land?

Every seed example of the branch's changed skill leaves becomes a question
(grounded skills carry their context); the seed answer a human wrote is the
reference the judge grades against, 1-10. Scores are averaged per leaf for
the trained and base model; leaves new on the branch are listed apart.
"""

from __future__ import annotations

from taxolab.evaluation.benchmark import BenchmarkUnavailableError, JudgedBenchmark, JudgedItem
from taxolab.evaluation.prompts import context_block, judge_prompt
from taxolab.evaluation.runner import Conversation
from taxolab.evaluation.taxonomy_items import changed_leaves, new_leaf_names


def skill_question(question: str, context: str | None) -> str:
    """What the model is asked: the question, after its context for grounded skills."""
    if not context:
        return question.strip()
    return f"{context.strip()}\n\n{question.strip()}"


class MtBenchBranch(JudgedBenchmark):
    name = "mt_bench_branch"
    metric = "judge score"
    scale = (1.0, 10.0)

    def load_items(self) -> list[JudgedItem]:
        self.prompt = judge_prompt("reference_graded")
        leaves = [
            leaf for leaf in changed_leaves(self.ctx.taxonomy_root, self.ctx.taxonomy_base) if not leaf.is_knowledge
        ]
        if not leaves:
            raise BenchmarkUnavailableError(
                f"no changed skill leaves in {self.ctx.taxonomy_root} against `{self.ctx.taxonomy_base}`"
            )
        self.new_groups = new_leaf_names(leaves, self.ctx.taxonomy_root, self.ctx.taxonomy_base)
        items = []
        for leaf in leaves:
            for index, seed in enumerate(leaf.seed_examples):
                conv = Conversation(f"{leaf.name}:{index}", (skill_question(seed.question, seed.context),))
                items.append(JudgedItem(conv.key, leaf.name, conv, (seed.answer,), seed.context, seed.question))
        self.notes.append(f"{len(items)} seed questions from {len(leaves)} skill leaves")
        return items

    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]:
        return self.prompt.messages(
            context_block=context_block(item.context),
            question=item.question,
            reference=item.references[0] or "",
            answer=answers[0],
        )
