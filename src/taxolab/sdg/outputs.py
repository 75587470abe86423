"""Write a run's results in the layout other parts read (contract C).

generated/<leaf>.jsonl          every generated row, raw teacher outputs under `_raw`
test/<leaf>.jsonl               knowledge test questions (question, choices, answer index, leaf)
messages/<leaf>.jsonl           the leaf's training samples (messages format)
recipes/{knowledge,skills}.yaml mixing recipes, rerunnable with `taxolab data mix`
knowledge_train_msgs_<run>.jsonl, skills_train_msgs_<run>.jsonl
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.mixing import mix_recipe, write_recipe
from taxolab.mixing.messages import knowledge_samples, skill_samples

INTERNAL_COLUMNS = {"seed_pool"}


@dataclass(frozen=True)
class MixOptions:
    seed: int
    distractor_ratio: float
    knowledge_replay: float


def public_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in INTERNAL_COLUMNS} for row in rows]


def test_questions(rows: list[dict[str, Any]], leaf: str) -> list[dict[str, Any]]:
    return [
        {"question": row["question"], "choices": list(row["choices"]), "answer": int(row["answer"]), "leaf": leaf}
        for row in rows
        if len(row.get("choices") or []) == 4
    ]


def write_leaf(folder: Path, leaf: str, rows: list[dict[str, Any]], tests: list[dict[str, Any]] | None) -> None:
    fsio.write_jsonl(folder / "generated" / f"{leaf}.jsonl", public_rows(rows))
    if tests is not None:
        fsio.write_jsonl(folder / "test" / f"{leaf}.jsonl", tests)


def write_training_sets(
    folder: Path,
    run: str,
    knowledge: dict[str, list[dict[str, Any]]],
    skills: dict[str, list[dict[str, Any]]],
    options: MixOptions,
) -> dict[str, int]:
    """Messages per leaf, then both recipes and both mixes; returns sample counts per output."""
    rng = random.Random(options.seed)
    pool = sorted({str(row.get("raw_document") or row["document"]) for rows in knowledge.values() for row in rows})
    knowledge_files = []
    for leaf, rows in sorted(knowledge.items()):
        path = folder / "messages" / f"{leaf}.jsonl"
        fsio.write_jsonl(path, knowledge_samples(rows, pool, distractor_ratio=options.distractor_ratio, rng=rng))
        knowledge_files.append(path)
    skill_files = []
    for leaf, rows in sorted(skills.items()):
        path = folder / "messages" / f"{leaf}.jsonl"
        fsio.write_jsonl(path, skill_samples(rows))
        skill_files.append(path)
    outputs = {
        "knowledge_train_msgs": (folder / f"knowledge_train_msgs_{run}.jsonl", [(p, 1.0) for p in knowledge_files]),
        "skills_train_msgs": (
            folder / f"skills_train_msgs_{run}.jsonl",
            [(p, 1.0) for p in skill_files] + [(p, options.knowledge_replay) for p in knowledge_files],
        ),
    }
    counts = {}
    for name, (output, datasets) in outputs.items():
        recipe = folder / "recipes" / f"{name.split('_')[0]}.yaml"
        write_recipe(recipe, output, datasets, options.seed)
        counts[name] = mix_recipe(recipe).rows
    return counts
