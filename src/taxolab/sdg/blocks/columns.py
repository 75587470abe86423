"""Blocks that reshape rows without the teacher: rename, duplicate, combine, flatten, drop, map."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from taxolab.sdg.blocks.base import Block, BlockConfig, BlockContext, BlockOutput, Row
from taxolab.sdg.blocks.build import BuildEnv


class RenameConfig(BlockConfig):
    columns: dict[str, str] = Field(min_length=1, description="old name -> new name")


class RenameColumns(Block[RenameConfig]):
    kind = "rename"
    Config = RenameConfig

    @property
    def input_columns(self) -> set[str]:
        return set(self.config.columns)

    def output_columns(self, available: set[str]) -> set[str]:
        mapping = self.config.columns
        return (available - set(mapping)) | set(mapping.values())

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        mapping = self.config.columns
        return BlockOutput([{mapping.get(key, key): value for key, value in row.items()} for row in rows])


class DuplicateConfig(BlockConfig):
    columns: dict[str, str] = Field(min_length=1, description="source -> copy")


class DuplicateColumns(Block[DuplicateConfig]):
    kind = "duplicate"
    Config = DuplicateConfig

    @property
    def input_columns(self) -> set[str]:
        return set(self.config.columns)

    def output_columns(self, available: set[str]) -> set[str]:
        return available | set(self.config.columns.values())

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        mapping = self.config.columns
        return BlockOutput([{**row, **{dst: row[src] for src, dst in mapping.items()}} for row in rows])


class CombineConfig(BlockConfig):
    columns: list[str] = Field(min_length=1)
    output: str
    separator: str = "\n\n"
    as_list: bool = Field(False, description="Make a list of the values instead of joining them.")


class CombineColumns(Block[CombineConfig]):
    kind = "combine"
    Config = CombineConfig

    @property
    def input_columns(self) -> set[str]:
        return set(self.config.columns)

    def output_columns(self, available: set[str]) -> set[str]:
        return available | {self.config.output}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        config = self.config
        out = []
        for row in rows:
            values = [row[column] for column in config.columns]
            combined: Any = values if config.as_list else config.separator.join(str(v) for v in values)
            out.append({**row, config.output: combined})
        return BlockOutput(out)


class FlattenConfig(BlockConfig):
    columns: list[str] = Field(min_length=1, description="Columns to turn into rows.")
    value_column: str = Field(description="Column receiving each value.")
    name_column: str = Field(description="Column receiving the name of the column it came from.")


class FlattenColumns(Block[FlattenConfig]):
    """Wide to long: one row per listed column (a "melt"); the listed columns are removed."""

    kind = "flatten"
    Config = FlattenConfig

    @property
    def input_columns(self) -> set[str]:
        return set(self.config.columns)

    def output_columns(self, available: set[str]) -> set[str]:
        config = self.config
        return (available - set(config.columns)) | {config.value_column, config.name_column}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        config = self.config
        out = []
        for row in rows:
            rest = {key: value for key, value in row.items() if key not in config.columns}
            for column in config.columns:
                out.append({**rest, config.value_column: row[column], config.name_column: column})
        return BlockOutput(out)


class DropConfig(BlockConfig):
    columns: list[str] = Field(min_length=1)


class DropColumns(Block[DropConfig]):
    kind = "drop_columns"
    Config = DropConfig

    @property
    def input_columns(self) -> set[str]:
        return set(self.config.columns)

    def output_columns(self, available: set[str]) -> set[str]:
        return available - set(self.config.columns)

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        drop = set(self.config.columns)
        return BlockOutput([{k: v for k, v in row.items() if k not in drop} for row in rows])


class MapConfig(BlockConfig):
    column: str
    output: str | None = Field(None, description="Column to write (default: overwrite `column`).")
    pattern: str | None = Field(None, description="Map the first match of this regex (group 1 if any).")
    mapping: dict[str, Any] = Field(min_length=1, description="value -> new value (case-insensitive keys).")


class MapValues(Block[MapConfig]):
    """Map values through a table; rows whose value is not in the table are dropped and counted."""

    kind = "map_values"
    Config = MapConfig

    def __init__(self, config: MapConfig, env: BuildEnv | None = None) -> None:
        super().__init__(config, env)
        self.table = {str(key).strip().lower(): value for key, value in config.mapping.items()}
        self.pattern = re.compile(config.pattern, re.IGNORECASE) if config.pattern else None

    @property
    def input_columns(self) -> set[str]:
        return {self.config.column}

    def output_columns(self, available: set[str]) -> set[str]:
        config = self.config
        return available | {config.output or config.column}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        config = self.config
        out = BlockOutput([])
        for row in rows:
            value = str(row[config.column])
            if self.pattern is not None:
                match = self.pattern.search(value)
                value = (match.group(1) if match.groups() else match.group(0)) if match else ""
            key = value.strip().lower()
            if key not in self.table:
                out.dropped[self.reason(f"{config.column} not in mapping")] += 1
                continue
            out.rows.append({**row, config.output or config.column: self.table[key]})
        return out
