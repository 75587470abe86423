"""mmlu_branch: did the model learn the new knowledge?

Data generation writes multiple-choice questions about each knowledge leaf's
documents to ``<run>/test/<leaf>.jsonl``; here each model scores every choice
by log-likelihood and the per-leaf accuracies of the trained and base model
are compared. Training chooses checkpoints on the dev split's questions
(:mod:`taxolab.evaluation.selection`); this benchmark scores the test split.
"""

from __future__ import annotations

from pathlib import Path

from taxolab import fsio
from taxolab.datarun import TEST, DataRun, run_folder, training_files
from taxolab.errors import LocatedError, TaxolabError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError
from taxolab.evaluation.datarun import TrainingQuestions, split_note
from taxolab.evaluation.loglik import LoglikScorer
from taxolab.evaluation.mcq import ChoiceQuestion, LoglikBenchmark, choice_request
from taxolab.fsio import iter_jsonl


def find_test_files(path: Path | None, datasets_dir: Path) -> list[Path]:
    """The question files: one JSONL, a run's ``test/`` folder, a run folder, or the newest run.

    A ``path`` the user gave that does not exist, or holds no ``*.jsonl`` files,
    raises :class:`TaxolabError` (the benchmark was asked for with that input);
    with no path and no generated run, :class:`BenchmarkUnavailableError` (skippable).
    """
    if path is None:
        newest = DataRun.newest(datasets_dir, TEST)
        if newest is None:
            raise BenchmarkUnavailableError(
                f"no generated test questions under {datasets_dir}: run `taxolab data generate` or pass --tasks-dir"
            )
        path = newest.part(TEST)
        return _question_files(path, unavailable=BenchmarkUnavailableError)
    # A path the user gave is something they asked for: any problem with it is an error, never a skip.
    return _question_files(Path(path), unavailable=TaxolabError)


_HINT = "pass a data run folder, its test/ folder or one question JSONL written by `taxolab data generate`"


def _question_files(path: Path, *, unavailable: type[TaxolabError]) -> list[Path]:
    """The ``*.jsonl`` files ``path`` stands for; ``unavailable`` is raised for an empty or questionless folder."""
    if not path.exists():
        raise TaxolabError(f"{path}: mmlu_branch question path does not exist; {_HINT}")
    if path.is_file():
        return [path]
    run = DataRun(path)
    folder = run.part(TEST) if run.part(TEST).is_dir() else path
    if folder == path and training_files(path):
        raise unavailable(f"{path}: this data run has no test/ questions for mmlu_branch")
    files = sorted(folder.glob("*.jsonl"))
    if not files and folder != path:
        # A data run whose test split is empty has nothing to report on: a skip with its reason, never a failed run.
        dev = run.dev_files(TEST)
        why = (
            f"all {sum(len(fsio.read_jsonl(f)) for f in dev)} of its questions fell in the dev split "
            "(mix.dev_fraction; checkpoint selection reads them, the report never does)"
            if dev
            else "it built no multiple-choice questions (too few held-out pairs)"
        )
        raise BenchmarkUnavailableError(f"{path}: no mmlu_branch test questions in this data run: {why}")
    if not files:
        raise unavailable(f"{folder}: folder holds no *.jsonl question files for mmlu_branch; {_HINT}")
    return files


def load_questions(files: list[Path]) -> list[ChoiceQuestion]:
    """Questions in contract-C rows ``{question, choices, answer, leaf}``; bad rows name file and line."""
    questions = []
    for file in files:
        for where, row in iter_jsonl(file):
            if not isinstance(row, dict):
                raise LocatedError(
                    where, "bad mmlu_branch question: each line must be a JSON object {question, choices, answer, leaf}"
                )
            try:
                choices = tuple(str(c) for c in row["choices"])
                answer = int(row["answer"])
                if not 0 <= answer < len(choices) or len(choices) < 2:
                    raise ValueError(f"answer index {answer} outside the {len(choices)} choices")
                questions.append(
                    ChoiceQuestion(
                        str(row["question"]),
                        choices,
                        answer,
                        str(row.get("leaf") or file.stem),
                        str(row.get("source") or ""),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                problem = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
                raise LocatedError(where, f"bad mmlu_branch question: {problem}") from None
    if files and not questions:
        named = files[0] if len(files) == 1 else files[0].parent
        raise TaxolabError(f"{named}: holds no mmlu_branch questions (empty file); {_HINT}")
    return questions


def refuse_training_questions(questions: list[ChoiceQuestion], folder: Path) -> tuple[list[ChoiceQuestion], int, bool]:
    """The questions the model was not trained on, how many were refused, and whether any training file was found.

    A question is refused when its normalised text is a trained question of the
    run's training files (its mixes and ``messages/``, as recorded by mixing): scoring
    it would measure memorisation of the training set, not new knowledge.
    """
    seen = TrainingQuestions.of_run(folder)
    if not len(seen):
        return questions, 0, False
    kept = [q for q in questions if q.question not in seen]
    return kept, len(questions) - len(kept), True


def source_summary(questions: list[ChoiceQuestion]) -> str:
    """Where the questions come from, as the report says it: "12 from held-out pairs, 3 teacher-written"."""
    labels = {"heldout": "from held-out pairs (no teacher)", "teacher": "teacher-written", "": "of unknown source"}
    counts: dict[str, int] = {}
    for question in questions:
        counts[question.source] = counts.get(question.source, 0) + 1
    return ", ".join(f"{n} {labels.get(source, f'from {source}')}" for source, n in sorted(counts.items()))


class MmluBranch(LoglikBenchmark):
    name = "mmlu_branch"

    def load_questions(self) -> list[ChoiceQuestion]:
        files = find_test_files(self.ctx.settings.tasks_dir, self.ctx.datasets_dir)
        where = files[0].parent if len(files) > 1 else files[0]
        questions, refused, checked = refuse_training_questions(load_questions(files), run_folder(files[0]))
        if not checked:
            self.notes.append(f"no training files beside {where}: could not check questions against the training set")
        if refused:
            self.notes.append(f"refused: {refused} in training set")
        if not questions:
            raise BenchmarkUnavailableError(
                f"all {refused} questions in {where} are in the training set (refused): nothing new to score"
            )
        self.notes.insert(0, f"{len(questions)} questions from {where}: {source_summary(questions)}")
        note = split_note(run_folder(files[0]), TEST)
        if note:
            self.notes.insert(1, note)
        return questions


def hits(scorer: LoglikScorer, questions: list[ChoiceQuestion], mode: str = "letter") -> list[bool]:
    """For each question (same order), whether its right choice is the most likely one."""
    requests = [choice_request(q, mode, q.group.replace("_", " ")) for q in questions]
    scores = scorer.score(requests, label="mmlu_branch")
    return [max(range(len(s)), key=s.__getitem__) == q.answer for q, s in zip(questions, scores, strict=True)]


def accuracy(scorer: LoglikScorer, questions: list[ChoiceQuestion], mode: str = "letter") -> float:
    """Fraction of questions whose right choice is the most likely one (0.0 for no questions)."""
    right = hits(scorer, questions, mode)
    return sum(right) / len(right) if right else 0.0
