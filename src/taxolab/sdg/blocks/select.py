"""Blocks that keep, pick or settle rows: filter by value, dedup, set-to-majority, selector, sampling."""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, model_validator

from taxolab.sdg.blocks.base import Block, BlockConfig, BlockContext, BlockOutput, Row

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "in": lambda value, allowed: value in allowed,
    "not_in": lambda value, allowed: value not in allowed,
}
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _to_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "y"}:
        return True
    if text in {"false", "no", "0", "n"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _to_number(kind: Callable[[str], Any]) -> Callable[[Any], Any]:
    """Numbers as teachers write them: the first number in the text ("Score: 2/3" -> 2)."""

    def convert(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return kind(str(value))
        match = _NUMBER.search(str(value))
        if match is None:
            raise ValueError(f"no number in {value!r}")
        return kind(match.group(0)) if kind is float else int(float(match.group(0)))

    return convert


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "str": lambda value: str(value).strip(),
    "int": _to_number(int),
    "float": _to_number(float),
    "bool": _to_bool,
}


class FilterConfig(BlockConfig):
    column: str
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"]
    value: Any
    convert: Literal["str", "int", "float", "bool"] | None = Field(
        None, description="Convert the column (and the value) first; rows that fail conversion are dropped."
    )

    @model_validator(mode="after")
    def _value_fits(self) -> FilterConfig:
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list as value")
        if self.convert is not None:
            convert = _CONVERT[self.convert]
            try:
                self.value = [convert(v) for v in self.value] if isinstance(self.value, list) else convert(self.value)
            except ValueError as exc:
                raise ValueError(f"value cannot be converted to {self.convert}: {exc}") from None
        return self


class FilterByValue(Block[FilterConfig]):
    kind = "filter"
    Config = FilterConfig

    @property
    def input_columns(self) -> set[str]:
        return {self.config.column}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        config = self.config
        test = _OPS[config.op]
        convert = _CONVERT[config.convert] if config.convert else None
        out = BlockOutput([])
        for row in rows:
            value = row.get(config.column)
            if convert is not None:
                try:
                    value = convert(value)
                except (ValueError, TypeError):
                    out.dropped[self.reason(f"{config.column} is not a {config.convert}")] += 1
                    continue
            try:
                keep = test(value, config.value)
            except TypeError:
                keep = False
            if keep:
                out.rows.append(row)
            else:
                out.dropped[self.reason(f"{config.column} not {config.op} {config.value!r}")] += 1
        return out


class DedupConfig(BlockConfig):
    columns: list[str] = Field(min_length=1, description="Rows equal on these (case/space-insensitive) are dups.")


class Dedup(Block[DedupConfig]):
    """Keep the first row of each group of duplicates within the batch."""

    kind = "dedup"
    Config = DedupConfig

    @property
    def input_columns(self) -> set[str]:
        return set(self.config.columns)

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        seen: set[tuple[str, ...]] = set()
        out = BlockOutput([])
        for row in rows:
            key = tuple(" ".join(str(row[c]).lower().split()) for c in self.config.columns)
            if key in seen:
                out.dropped[self.reason("duplicate")] += 1
                continue
            seen.add(key)
            out.rows.append(row)
        return out


class MajorityConfig(BlockConfig):
    column: str
    group_by: list[str] = Field(default_factory=list, description="Settle each group separately.")


class SetToMajority(Block[MajorityConfig]):
    """Set a column to its most common value among rows of the same group (e.g. votes of ``n`` judges)."""

    kind = "set_to_majority"
    Config = MajorityConfig

    @property
    def input_columns(self) -> set[str]:
        return {self.config.column, *self.config.group_by}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        config = self.config
        groups: dict[tuple[str, ...], Counter[str]] = {}
        for row in rows:
            groups.setdefault(self._key(row), Counter())[str(row[config.column])] += 1
        winners = {key: votes.most_common(1)[0][0] for key, votes in groups.items()}
        return BlockOutput([{**row, config.column: winners[self._key(row)]} for row in rows])

    def _key(self, row: Row) -> tuple[str, ...]:
        return tuple(str(row[column]) for column in self.config.group_by)


class SelectorConfig(BlockConfig):
    choose_by: str = Field(description="Column whose value picks the source column.")
    choices: dict[str, str] = Field(min_length=1, description="value of `choose_by` -> column to copy.")
    output: str


class Selector(Block[SelectorConfig]):
    """Copy one of several columns into ``output``, chosen per row; unknown choices are dropped."""

    kind = "selector"
    Config = SelectorConfig

    @property
    def input_columns(self) -> set[str]:
        return {self.config.choose_by, *self.config.choices.values()}

    def output_columns(self, available: set[str]) -> set[str]:
        return available | {self.config.output}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        out = BlockOutput([])
        for row in rows:
            source = self.config.choices.get(str(row[self.config.choose_by]))
            if source is None:
                out.dropped[self.reason(f"no choice for {self.config.choose_by} = {row[self.config.choose_by]!r}")] += 1
                continue
            out.rows.append({**row, self.config.output: row[source]})
        return out


class SampleConfig(BlockConfig):
    column: str = Field(description="A list column (the population).")
    output: str
    size: int = Field(ge=1, description="Items to sample per row (fewer if the population is smaller).")


class SamplePopulation(Block[SampleConfig]):
    """Sample items from a list column per row, reproducibly (seeded by run, batch and block)."""

    kind = "sample_population"
    Config = SampleConfig

    @property
    def input_columns(self) -> set[str]:
        return {self.config.column}

    def output_columns(self, available: set[str]) -> set[str]:
        return available | {self.config.output}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        rng = ctx.rng(self.name)
        out = []
        for row in rows:
            population = list(row[self.config.column] or [])
            out.append({**row, self.config.output: rng.sample(population, min(self.config.size, len(population)))})
        return BlockOutput(out)
