"""The block kinds a pipeline YAML may name, and building one from its config mapping."""

from __future__ import annotations

from typing import Any

from taxolab.sdg.blocks.base import Block
from taxolab.sdg.blocks.build import BuildEnv, BuildError
from taxolab.sdg.blocks.columns import (
    CombineColumns,
    DropColumns,
    DuplicateColumns,
    FlattenColumns,
    MapValues,
    RenameColumns,
)
from taxolab.sdg.blocks.iterate import Iterate
from taxolab.sdg.blocks.knowledge import GroundingCheck, QuestionCheck, SpanQuestions, SplitSpans
from taxolab.sdg.blocks.llm import ConditionalLLMBlock, LLMBlock
from taxolab.sdg.blocks.select import Dedup, FilterByValue, SamplePopulation, Selector, SetToMajority

BLOCKS: dict[str, type[Block[Any]]] = {
    cls.kind: cls
    for cls in (
        LLMBlock,
        ConditionalLLMBlock,
        FilterByValue,
        RenameColumns,
        DuplicateColumns,
        CombineColumns,
        FlattenColumns,
        DropColumns,
        MapValues,
        SamplePopulation,
        Selector,
        SetToMajority,
        Dedup,
        Iterate,
        SplitSpans,
        SpanQuestions,
        QuestionCheck,
        GroundingCheck,
    )
}


def build_block(config: dict[str, Any], env: BuildEnv | None) -> Block[Any]:
    """Validate ``config`` against its kind's schema and build the block (pydantic errors propagate)."""
    kind = config.get("block")
    if kind not in BLOCKS:
        raise BuildError("block", f"unknown block kind {kind!r} (known: {', '.join(sorted(BLOCKS))})")
    cls = BLOCKS[kind]
    return cls(cls.Config.model_validate(config), env)


Iterate.build_inner = build_block
SpanQuestions.build_check = build_block
