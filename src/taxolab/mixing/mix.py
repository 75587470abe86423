"""Build a training file from a recipe: sample each dataset, check every row, shuffle, write atomically."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.errors import TaxolabError
from taxolab.mixing.messages import validate_sample
from taxolab.mixing.recipe import Recipe, load_recipe


@dataclass
class MixResult:
    output: Path
    rows: int
    per_dataset: dict[str, int] = field(default_factory=dict)
    invalid: Counter[str] = field(default_factory=Counter)


def sample_rows(rows: list[Any], size: float | int, rng: random.Random) -> list[Any]:
    """``size`` rows (int) or ``size`` x the rows (float); whole repeats first, then a random remainder."""
    if not rows:
        return []
    wanted = size if isinstance(size, int) else round(len(rows) * size)
    repeats, remainder = divmod(wanted, len(rows))
    return rows * repeats + rng.sample(rows, remainder)


def mix_recipe(recipe: Recipe | Path) -> MixResult:
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    rng = random.Random(recipe.seed)
    result = MixResult(recipe.output, 0)
    mixed: list[Any] = []
    for path, size in recipe.datasets:
        if not path.is_file():
            raise TaxolabError(f"{recipe.path}: dataset {path} not found")
        valid = []
        for _where, row in fsio.iter_jsonl(path):  # a broken line is an error at file:line, not a JSON traceback
            problem = validate_sample(row)
            if problem is None:
                valid.append(row)
            else:
                result.invalid[f"{path.name}: {problem}"] += 1
        chosen = sample_rows(valid, size, rng)
        result.per_dataset[str(path)] = len(chosen)
        mixed.extend(chosen)
    if recipe.shuffle:
        rng.shuffle(mixed)
    result.rows = fsio.write_jsonl(recipe.output, mixed)
    return result
