"""mmlu_branch: did the model learn the new knowledge?

Data generation writes multiple-choice questions about each knowledge leaf's
documents to ``<run>/test/<leaf>.jsonl``; here each model scores every choice
by log-likelihood and the per-leaf accuracies of the trained and base model
are compared. Training uses :func:`make_selector` to keep the checkpoint that
answers them best.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from taxolab.errors import LocatedError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError
from taxolab.evaluation.loglik import LoglikScorer, load_scorer
from taxolab.evaluation.mcq import ChoiceQuestion, LoglikBenchmark, choice_request
from taxolab.fsio import iter_jsonl


def find_test_files(path: Path | None, datasets_dir: Path) -> list[Path]:
    """The question files: one JSONL, a run's ``test/`` folder, a run folder, or the newest run."""
    if path is None:
        runs = sorted(
            (p for p in datasets_dir.glob("*/test") if any(p.glob("*.jsonl"))),
            key=lambda p: p.stat().st_mtime,
        )
        if not runs:
            raise BenchmarkUnavailableError(
                f"no generated test questions under {datasets_dir}: run `taxolab data generate` or pass --tasks-dir"
            )
        path = runs[-1]
    path = Path(path)
    if path.is_file():
        return [path]
    folder = path / "test" if (path / "test").is_dir() else path
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise BenchmarkUnavailableError(f"{folder}: no *.jsonl question files for mmlu_branch")
    return files


def load_questions(files: list[Path]) -> list[ChoiceQuestion]:
    """Questions in contract-C rows ``{question, choices, answer, leaf}``; bad rows name file and line."""
    questions = []
    for file in files:
        for where, row in iter_jsonl(file):
            try:
                choices = tuple(str(c) for c in row["choices"])
                answer = int(row["answer"])
                if not 0 <= answer < len(choices) or len(choices) < 2:
                    raise ValueError(f"answer index {answer} outside the {len(choices)} choices")
                questions.append(
                    ChoiceQuestion(str(row["question"]), choices, answer, str(row.get("leaf") or file.stem))
                )
            except (ValueError, KeyError, TypeError) as exc:
                problem = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
                raise LocatedError(where, f"bad mmlu_branch question: {problem}") from None
    return questions


class MmluBranch(LoglikBenchmark):
    name = "mmlu_branch"

    def load_questions(self) -> list[ChoiceQuestion]:
        files = find_test_files(self.ctx.settings.tasks_dir, self.ctx.datasets_dir)
        self.notes.append(f"questions from {files[0].parent if len(files) > 1 else files[0]}")
        return load_questions(files)


def accuracy(scorer: LoglikScorer, questions: list[ChoiceQuestion], mode: str = "letter") -> float:
    """Fraction of questions whose right choice is the most likely one."""
    requests = [choice_request(q, mode, q.group.replace("_", " ")) for q in questions]
    scores = scorer.score(requests, label="mmlu_branch")
    hits = [max(range(len(s)), key=s.__getitem__) == q.answer for q, s in zip(questions, scores, strict=True)]
    return sum(hits) / len(hits) if hits else 0.0


def make_selector(test_dir: Path, *, mode: str = "letter", batch_size: int = 8) -> Callable[[list[Path]], Path]:
    """A checkpoint chooser for training: the HF folder with the best mmlu_branch accuracy.

    Ties go to the later checkpoint (more training on the same score).
    """
    questions = load_questions(find_test_files(Path(test_dir), Path(test_dir)))

    def select(checkpoints: list[Path]) -> Path:
        if not checkpoints:
            raise ValueError("no checkpoints to choose from")
        best, best_score = checkpoints[0], -1.0
        for checkpoint in checkpoints:
            score = accuracy(load_scorer(checkpoint, batch_size=batch_size), questions, mode)
            if score >= best_score:
                best, best_score = checkpoint, score
        return best

    return select
