"""Pipelines are checked completely at load time, with `file:line: problem` errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.errors import LocatedError, TaxolabError
from taxolab.sdg.library import load_pipeline_set, shipped_names
from taxolab.sdg.pipeline import load_pipeline

PROMPT = """\
system: You answer.
generation: |
  Text: {{ document }}
start_tags: ["Q:", "A:"]
end_tags: ["", ""]
"""


def write(tmp_path: Path, blocks: str, inputs: str = "[document]") -> Path:
    (tmp_path / "p.yaml").write_text(PROMPT, encoding="utf-8")
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"version: 1\ninputs: {inputs}\nblocks:\n{blocks}", encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(LocatedError) as info:
        load_pipeline(path)
    return str(info.value)


def test_every_shipped_pipeline_loads() -> None:
    assert shipped_names() == ["full", "simple"]
    for name in shipped_names():
        pipelines = load_pipeline_set(name)
        assert all(p.blocks for p in pipelines.all())
        assert {"question", "answer"} <= pipelines.pipelines[next(iter(pipelines.pipelines))].outputs


def test_unknown_block_kind_points_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  - block: llm\n    name: a\n    prompt: p.yaml\n    output_columns: [q, a]\n  - block: magic\n    name: b\n",
    )
    assert error(path) == f"{path}:8: unknown block kind 'magic' (known: " + error(path).split("(known: ")[1]


def test_bad_field_points_at_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "  - block: filter\n    name: f\n    column: document\n    op: almost\n    value: 1\n")
    assert error(path).startswith(f"{path}:7: op: Input should be")


def test_missing_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, "  - block: filter\n    name: f\n    op: eq\n    value: 1\n")
    assert error(path) == f"{path}:4: column: required field missing"


def test_column_no_earlier_block_makes(tmp_path: Path) -> None:
    path = write(tmp_path, "  - block: dedup\n    name: d\n    columns: [question]\n")
    assert error(path) == (
        f"{path}:4: block 'd' reads question, which neither the inputs nor an earlier block make (available: document)"
    )


def test_prompt_columns_are_checked_too(tmp_path: Path) -> None:
    path = write(
        tmp_path, "  - block: llm\n    name: a\n    prompt: p.yaml\n    output_columns: [q, a]\n", inputs="[text]"
    )
    assert "block 'a' reads document" in error(path)


def test_prompt_tags_must_match_output_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "  - block: llm\n    name: a\n    prompt: p.yaml\n    output_columns: [q]\n")
    assert error(path) == f"{path}:7: 1 output columns but prompt p.yaml has 2 start tags"


def test_missing_prompt_and_duplicate_names(tmp_path: Path) -> None:
    path = write(tmp_path, "  - block: llm\n    name: a\n    prompt: nope.yaml\n    output_columns: [q]\n")
    assert error(path).startswith(f"{path}:6: prompt config 'nope.yaml' not found")
    path = write(
        tmp_path,
        "  - block: dedup\n    name: d\n    columns: [document]\n  - block: dedup\n    name: d\n    columns: [document]\n",
    )
    assert error(path) == f"{path}:8: duplicate block name 'd'"


def test_filter_value_must_convert(tmp_path: Path) -> None:
    path = write(
        tmp_path, "  - block: filter\n    name: f\n    column: document\n    op: eq\n    value: abc\n    convert: int\n"
    )
    assert "value cannot be converted to int" in error(path)


def test_bad_yaml_and_unknown_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("blocks: [\n  - a: b: c\n", encoding="utf-8")
    assert error(path).startswith(f"{path}:")
    with pytest.raises(TaxolabError, match="neither full nor simple nor a folder"):
        load_pipeline_set("fancy")


def test_a_user_folder_needs_every_kind(tmp_path: Path) -> None:
    with pytest.raises(TaxolabError, match=r"lacks knowledge\.yaml"):
        load_pipeline_set(str(tmp_path))
