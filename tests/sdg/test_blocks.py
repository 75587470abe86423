"""Each block kind on hand-made rows: exact outputs and exact drop counts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from taxolab.llm.client import Completion
from taxolab.llm.errors import EndpointError
from taxolab.sdg.blocks import BlockContext, BlockOutput, build_block
from taxolab.sdg.blocks.build import BuildEnv


def run(
    config: dict[str, Any], rows: list[dict[str, Any]], teacher: Any = None, env: BuildEnv | None = None
) -> BlockOutput:
    block = build_block({"name": "b", **config}, env)
    return asyncio.run(block.run(rows, BlockContext(teacher, "seed")))


def test_filter_converts_and_counts_each_reason() -> None:
    rows = [{"s": "Score: 2"}, {"s": "1"}, {"s": "none"}, {"s": 3}]
    out = run({"block": "filter", "column": "s", "op": "ge", "value": "2", "convert": "int"}, rows)
    assert out.rows == [{"s": "Score: 2"}, {"s": 3}]
    assert out.dropped == {"b: s is not a int": 1, "b: s not ge 2": 1}


def test_filter_in_and_eq_without_conversion() -> None:
    rows = [{"k": "a"}, {"k": "b"}, {"k": "c"}]
    assert run({"block": "filter", "column": "k", "op": "in", "value": ["a", "c"]}, rows).rows == [
        {"k": "a"},
        {"k": "c"},
    ]
    assert run({"block": "filter", "column": "k", "op": "ne", "value": "a"}, rows).rows == [{"k": "b"}, {"k": "c"}]


def test_column_blocks() -> None:
    rows = [{"a": 1, "b": 2}]
    assert run({"block": "rename", "columns": {"a": "x"}}, rows).rows == [{"x": 1, "b": 2}]
    assert run({"block": "duplicate", "columns": {"a": "c"}}, rows).rows == [{"a": 1, "b": 2, "c": 1}]
    assert run({"block": "combine", "columns": ["a", "b"], "output": "c", "separator": "+"}, rows).rows[0]["c"] == "1+2"
    assert run({"block": "combine", "columns": ["a", "b"], "output": "c", "as_list": True}, rows).rows[0]["c"] == [1, 2]
    assert run({"block": "drop_columns", "columns": ["a"]}, rows).rows == [{"b": 2}]
    flat = run({"block": "flatten", "columns": ["a", "b"], "value_column": "v", "name_column": "n"}, rows).rows
    assert flat == [{"v": 1, "n": "a"}, {"v": 2, "n": "b"}]


def test_map_values_with_pattern_drops_unmapped() -> None:
    rows = [{"x": "The answer is B."}, {"x": "(d)"}, {"x": "none of them"}]
    out = run(
        {"block": "map_values", "column": "x", "pattern": r"\b([ABCD])\b", "mapping": {"A": 0, "B": 1, "D": 3}}, rows
    )
    assert [row["x"] for row in out.rows] == [1, 3]
    assert out.dropped == {"b: x not in mapping": 1}


def test_dedup_majority_selector() -> None:
    rows = [{"q": "Why?", "v": "1"}, {"q": " why? ", "v": "0"}, {"q": "How?", "v": "1"}]
    assert len(run({"block": "dedup", "columns": ["q"]}, rows).rows) == 2
    votes = [{"g": "x", "v": "1"}, {"g": "x", "v": "1"}, {"g": "x", "v": "0"}, {"g": "y", "v": "0"}]
    settled = run({"block": "set_to_majority", "column": "v", "group_by": ["g"]}, votes).rows
    assert [row["v"] for row in settled] == ["1", "1", "1", "0"]
    picked = run(
        {"block": "selector", "choose_by": "k", "choices": {"a": "x", "b": "y"}, "output": "o"},
        [{"k": "a", "x": 1, "y": 2}, {"k": "b", "x": 1, "y": 2}, {"k": "c", "x": 1, "y": 2}],
    )
    assert [row["o"] for row in picked.rows] == [1, 2]
    assert picked.dropped == {"b: no choice for k = 'c'": 1}


def test_sample_population_is_reproducible_per_seed() -> None:
    rows = [{"pool": list(range(10))} for _ in range(3)]
    config = {"block": "sample_population", "column": "pool", "output": "s", "size": 3}
    block = build_block({"name": "b", **config}, None)

    def draw(seed: str) -> list[list[int]]:
        return [row["s"] for row in asyncio.run(block.run(rows, BlockContext(None, seed))).rows]

    first = draw("run-1")
    assert draw("run-1") == first  # the same seed draws the same samples
    assert all(len(s) == 3 == len(set(s)) and set(s) <= set(range(10)) for s in first)  # without replacement
    # The seed is used: other seeds draw other samples (20 seeds all agreeing by chance: ~(1/120)^60).
    others = [draw(f"run-{i}") for i in range(2, 22)]
    assert sum(other != first for other in others) >= 15
    # Rows of one batch are sampled independently, not all given the same draw.
    assert len({tuple(s) for draws in [first, *others] for s in draws}) > 21


class ScriptedTeacher:
    """In-process teacher for block unit tests (the HTTP fake is used end to end elsewhere)."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.calls: list[dict[str, Any]] = []

    async def chat(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        self.calls.append({"messages": messages, "n": n, **kwargs})
        text = self.answers[messages[-1]["content"].split("Text: ")[-1].strip()]
        if text == "HTTP 400":
            raise EndpointError("http://x", "m", "HTTP 400: bad", status=400)
        return [Completion(text) for _ in range(n)]


def llm_env(tmp_path: Path) -> BuildEnv:
    for name, tags in (("qa.yaml", '["Q:", "A:"]'), ("other.yaml", '["Question:", "Answer:"]')):
        (tmp_path / name).write_text(
            f"system: s\ngeneration: 'Text: {{{{ document }}}}'\nstart_tags: {tags}\nend_tags: ['', '']\n",
            encoding="utf-8",
        )
    return BuildEnv(tmp_path)


def test_llm_block_parses_keeps_raw_and_counts_failures(tmp_path: Path) -> None:
    teacher = ScriptedTeacher({"good": "Q: one A: two Q: three A: four", "junk": "no idea", "down": "HTTP 400"})
    config = {
        "block": "llm",
        "prompt": "qa.yaml",
        "output_columns": ["q", "a"],
        "multiple": True,
        "n": 2,
        "gen_kwargs": {"temperature": 0.5},
    }
    out = run(config, [{"document": "good"}, {"document": "junk"}, {"document": "down"}], teacher, llm_env(tmp_path))
    assert [(row["q"], row["a"]) for row in out.rows] == [("one", "two"), ("three", "four")] * 2
    assert out.rows[0]["_raw"] == {"b": "Q: one A: two Q: three A: four"}
    assert out.dropped == {"b: unparseable teacher output": 2, "b: teacher request failed": 1}
    assert teacher.calls[0]["n"] == 2 and teacher.calls[0]["temperature"] == 0.5


def test_conditional_llm_picks_prompt_by_column(tmp_path: Path) -> None:
    teacher = ScriptedTeacher({"x": "Q: q1 A: a1 Question: q2 Answer: a2"})
    config = {
        "block": "conditional_llm",
        "select_column": "kind",
        "prompts": {"short": "qa.yaml", "long": "other.yaml"},
        "output_columns": ["q", "a"],
    }
    rows = [{"document": "x", "kind": "short"}, {"document": "x", "kind": "long"}, {"document": "x", "kind": "odd"}]
    out = run(config, rows, teacher, llm_env(tmp_path))
    assert [(row["q"], row["a"]) for row in out.rows] == [("q1", "a1 Question: q2 Answer: a2"), ("q2", "a2")]
    assert out.dropped == {"b: no prompt for value 'odd'": 1}


def test_iterate_repeats_the_inner_block(tmp_path: Path) -> None:
    teacher = ScriptedTeacher({"x": "Q: q A: a"})
    inner = {"block": "llm", "prompt": "qa.yaml", "output_columns": ["q", "a"]}
    out = run({"block": "iterate", "times": 3, "inner": inner}, [{"document": "x"}], teacher, llm_env(tmp_path))
    assert len(out.rows) == 3 and len(teacher.calls) == 3
