"""mt_bench_branch: did the new skills land?

Every seed example of the branch's changed skill leaves becomes a question
(grounded skills carry their context); the seed answer a human wrote is the
reference the judge grades against, 1-10. Scores are averaged per leaf for
the trained and base model; leaves new on the branch are listed apart.

A seed question that is a user message of the data run's training files
(``run.seed_examples`` puts the seeds there) is refused and counted: scoring
it would measure memorisation of the training set. When every one is refused
the benchmark says so instead of scoring (the data run is ``--tasks-dir``,
else the newest one with training files).
"""

from __future__ import annotations

from pathlib import Path

from taxolab.datarun import MESSAGES, newest_run, run_folder
from taxolab.evaluation.benchmark import BenchmarkUnavailableError, JudgedBenchmark, JudgedItem
from taxolab.evaluation.datarun import TrainingQuestions
from taxolab.evaluation.prompts import context_block, judge_prompt
from taxolab.evaluation.runner import BenchmarkQuestion
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
                conv = BenchmarkQuestion(f"{leaf.name}:{index}", (skill_question(seed.question, seed.context),))
                items.append(JudgedItem(conv.key, leaf.name, conv, (seed.answer,), seed.context, seed.question))
        return self._refuse_trained(items, len(leaves))

    def _refuse_trained(self, items: list[JudgedItem], leaves: int) -> list[JudgedItem]:
        """Drop seed questions that are in the data run's training files; none left is "unavailable", with why."""
        tasks = self.ctx.settings.tasks_dir
        folder = run_folder(Path(tasks)) if tasks is not None else newest_run(self.ctx.datasets_dir, MESSAGES)
        seen = TrainingQuestions.of_run(folder) if folder is not None else TrainingQuestions([])
        if not len(seen):
            self.notes.append(f"{len(items)} seed questions from {leaves} skill leaves")
            self.notes.append("no training files found: could not check the questions against the training set")
            return items
        kept = [item for item in items if item.conversation.turns[0] not in seen and item.question not in seen]
        refused = len(items) - len(kept)
        if not kept:
            raise BenchmarkUnavailableError(
                f"all {refused} seed questions of the changed skill leaves are in the training set of {folder} "
                "(run.seed_examples adds them): nothing unseen to score"
            )
        self.notes.append(f"{len(kept)} seed questions from {leaves} skill leaves")
        if refused:
            self.notes.append(f"refused: {refused} in training set ({folder})")
        return kept

    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]:
        return self.prompt.messages(
            context_block=context_block(item.context),
            question=item.question,
            reference=item.references[0] or "",
            answer=answers[0],
        )
