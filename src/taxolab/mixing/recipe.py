"""Mixing recipes: which datasets go into a training file, and how much of each.

    output: ../knowledge_train_msgs_20261125T170000.jsonl   # relative to the recipe
    seed: 42
    datasets:
      - path: ../messages/knowledge_science_birds.jsonl
        sampling_size: 1.0        # a float is a ratio (2.0 = each row twice), an int a row count

A recipe is rerunnable alone with ``taxolab data mix RECIPE``: edit the sizes,
add your own messages JSONL files, rebuild the mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from taxolab import fsio
from taxolab.errors import LocatedError, SourceLocation, TaxolabError
from taxolab.yamlio import load_yaml, plain


class RecipeDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    sampling_size: float | int = Field(1.0, ge=0)


class RecipeModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output: str
    seed: int = 42
    shuffle: bool = True
    datasets: list[RecipeDataset] = Field(default_factory=list)


@dataclass(frozen=True)
class Recipe:
    path: Path
    output: Path
    seed: int
    shuffle: bool
    datasets: tuple[tuple[Path, float | int], ...]


def load_recipe(path: Path) -> Recipe:
    path = Path(path)
    doc = load_yaml(path, "recipe")
    try:
        model = RecipeModel.model_validate(plain(doc))
    except ValidationError as exc:
        # every problem, one line each: fixing one at a time and rerunning is what a summary would cost
        problems = [
            LocatedError(
                SourceLocation(path, _line(doc, list(e["loc"]))), f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            )
            for e in exc.errors()
        ]
        problems.sort(key=lambda problem: problem.location)
        if len(problems) == 1:
            raise problems[0] from None
        raise TaxolabError("\n".join([f"{path}: {len(problems)} recipe problems:", *map(str, problems)])) from None
    base = path.parent
    return Recipe(
        path=path,
        output=(base / model.output).resolve(),
        seed=model.seed,
        shuffle=model.shuffle,
        datasets=tuple(((base / d.path).resolve(), d.sampling_size) for d in model.datasets),
    )


def write_recipe(path: Path, output: Path, datasets: list[tuple[Path, float | int]], seed: int) -> None:
    """Write a recipe whose paths are relative to it, so a run folder can be moved as a whole."""
    import os

    def rel(target: Path) -> str:
        return os.path.relpath(target, path.parent)

    lines = [
        f"# Rebuild this mix with: taxolab data mix {path.name}",
        "# sampling_size: a float is a ratio of the dataset (2.0 = every row twice), an int a row count.",
        f"output: {rel(output)}",
        f"seed: {seed}",
        "datasets:" + ("" if datasets else " []"),
    ]
    for dataset, size in datasets:
        lines += [f"  - path: {rel(dataset)}", f"    sampling_size: {size!r}"]
    fsio.write_text(path, "\n".join(lines) + "\n")


def _line(doc: object, loc: Sequence[object]) -> int:
    node, line = doc, 1
    for key in loc:
        try:
            line = node.lc.key(key)[0] + 1 if isinstance(key, str) else node.lc.item(key)[0] + 1  # type: ignore[attr-defined]
            node = node[key]  # type: ignore[index]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return line
