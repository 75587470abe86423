"""Run an inner block several times on the same rows and keep every result (more samples per row)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from taxolab.sdg.blocks.base import Block, BlockConfig, BlockContext, BlockOutput, Row
from taxolab.sdg.blocks.build import BuildEnv


class IterateConfig(BlockConfig):
    times: int = Field(ge=1)
    inner: dict[str, Any] = Field(description="The block to repeat, written like any other block.")


class Iterate(Block[IterateConfig]):
    kind = "iterate"
    Config = IterateConfig
    build_inner: ClassVar[Callable[[dict[str, Any], BuildEnv | None], Block[Any]] | None] = None
    """Builds the inner block. :mod:`taxolab.sdg.blocks.registry` sets it, since it knows every block kind;
    this module therefore does not import the registry that imports it (no import cycle)."""

    def __init__(self, config: IterateConfig, env: BuildEnv | None = None) -> None:
        super().__init__(config, env)
        if Iterate.build_inner is None:
            raise RuntimeError("build iterate blocks with taxolab.sdg.blocks.registry.build_block")
        self.inner = Iterate.build_inner({"name": f"{config.name}.inner", **config.inner}, env)

    @property
    def input_columns(self) -> set[str]:
        return self.inner.input_columns

    def output_columns(self, available: set[str]) -> set[str]:
        return self.inner.output_columns(available)

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        results = await asyncio.gather(
            *(
                self.inner.run(rows, BlockContext(ctx.teacher, f"{ctx.seed}:{i}", ctx.gen_defaults, ctx.settings))
                for i in range(self.config.times)
            )
        )
        out = BlockOutput([])
        for result in results:
            out.rows.extend(result.rows)
            out.dropped.update(result.dropped)
            out.rejected.extend(result.rejected)
        return out
