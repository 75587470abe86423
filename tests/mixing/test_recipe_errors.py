"""A recipe with several mistakes names every one, with its line (issue 12: no summary hides errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.errors import TaxolabError
from taxolab.mixing.recipe import load_recipe


def test_every_recipe_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("output: x.jsonl\ncolour: red\ndatasets:\n  - path: a.jsonl\n    sampling_size: -1\n")
    with pytest.raises(TaxolabError) as caught:
        load_recipe(recipe)
    assert str(caught.value).splitlines() == [
        f"{recipe}: 2 recipe problems:",
        f"{recipe}:2: colour: Extra inputs are not permitted",
        f"{recipe}:5: datasets.0.sampling_size: Input should be greater than or equal to 0",
    ]
