"""dk_bench: the user's own domain questions, judged 1-5 against their reference answers.

Input is a JSONL with a question (``user_input`` or ``question``) and a
reference (``reference``, ``reference_answer`` or ``answer``) per line, and
optionally the ``response`` to grade; without it the model answers. Any
OpenAI-compatible judge works, a local one included. Results come as JSONL
(every answer and judgment) and CSV (for a spreadsheet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taxolab.errors import LocatedError, TaxolabError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError, ItemRecord, JudgedBenchmark, JudgedItem
from taxolab.evaluation.prompts import judge_prompt
from taxolab.evaluation.runner import BenchmarkQuestion
from taxolab.fsio import iter_jsonl

QUESTION_KEYS = ("user_input", "question")
REFERENCE_KEYS = ("reference", "reference_answer", "answer")
CSV_COLUMNS = ["model", "model_name", "id", "question", "reference", "response", "score", "judgment", "judge"]


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def load_dk_items(path: Path) -> list[JudgedItem]:
    """One item per line; a line without question or reference is an error naming file and line."""
    items = []
    for where, row in iter_jsonl(path):
        number = where.line
        question, reference = _first(row, QUESTION_KEYS), _first(row, REFERENCE_KEYS)
        if question is None or reference is None:
            raise LocatedError(where, "each line needs `user_input` (or `question`) and `reference` (or `answer`)")
        conv = BenchmarkQuestion(f"dk_bench:{number}", (question,))
        response = row.get("response")
        given: dict[str, tuple[str, ...]] = (
            {"trained": (str(response),)} if isinstance(response, str) and response.strip() else {}
        )
        items.append(JudgedItem(conv.key, path.stem, conv, (reference,), question=question, given_answers=given))
    return items


class DkBench(JudgedBenchmark):
    name = "dk_bench"
    metric = "judge score"
    scale = (1.0, 5.0)
    group_label = "set"

    def load_items(self) -> list[JudgedItem]:
        self.prompt = judge_prompt("rubric_1_to_5")
        path = self.ctx.settings.dk_bench_data
        if path is None:
            raise BenchmarkUnavailableError("dk_bench needs your questions: pass --dk-bench-data FILE.jsonl")
        if not Path(path).is_file():
            # a file the user named: a typo is an error, not a benchmark quietly left out
            raise TaxolabError(f"{path}: dk_bench data file does not exist (--dk-bench-data takes a JSONL file)")
        items = load_dk_items(Path(path))
        given = sum(1 for item in items if item.given_answers)
        if given:
            self.notes.append(f"{given} of {len(items)} responses taken from {path} as the evaluated model's answers")
        return items

    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]:
        return self.prompt.messages(question=item.question, reference=item.references[0] or "", answer=answers[0])

    def row(self, role: str, record: ItemRecord) -> dict[str, Any]:
        row = super().row(role, record)
        row.update(
            question=record.item.question,
            reference=record.item.references[0],
            response=record.answer.turns[0] if record.answer.turns else None,
            score=record.scores[0] if record.scores else None,
            judgment=record.judgments[0].text if record.judgments and record.judgments[0] else None,
        )
        return row

    def extra_files(self, rows: list[dict[str, Any]]) -> dict[str, Path]:
        return {"csv": self.write_csv(rows, CSV_COLUMNS)}
