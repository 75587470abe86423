"""What every block is: rows in, rows out, with declared columns and counted drops.

A block is built once from its YAML config and then called on many small
batches, possibly concurrently; it holds no per-run state and knows nothing of
batching, parallelism or resume (the executor owns those).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from taxolab.llm.client import Completion

if TYPE_CHECKING:
    from taxolab.sdg.blocks.build import BuildEnv

Row = dict[str, Any]


class Teacher(Protocol):
    """The one call LLM blocks make; the executor supplies it (one endpoint or a pool)."""

    async def chat(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Completion]: ...


@dataclass
class BlockContext:
    """Per-batch things a block may use: the teacher and a deterministic random source.

    The random source is seeded from the run seed, the batch index and the block
    name, so a resumed batch samples exactly what the interrupted one would have.
    """

    teacher: Teacher | None
    seed: str
    gen_defaults: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    """Run settings blocks may read (e.g. ``questions_per_span``); never sent to the teacher."""

    def rng(self, block_name: str) -> random.Random:
        return random.Random(f"{self.seed}:{block_name}")


@dataclass
class BlockOutput:
    """Rows made, drops counted per reason, and the dropped rows themselves where a block keeps them.

    ``rejected`` entries are ``{"reason", "block", "row"}`` (the row with its raw
    teacher text under ``_raw``), written to ``dropped/<leaf>.jsonl`` so a user
    can read what a check refused (``taxolab data show --dropped``).
    """

    rows: list[Row]
    dropped: Counter[str] = field(default_factory=Counter)
    rejected: list[Row] = field(default_factory=list)


class BlockConfig(BaseModel):
    """Fields every block has; kinds add their own. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    block: str
    name: str


C = TypeVar("C", bound=BlockConfig)


class Block(ABC, Generic[C]):
    """Base class: subclasses set ``kind`` and ``Config`` and implement :meth:`run`."""

    kind: ClassVar[str]
    Config: ClassVar[type[BlockConfig]]

    def __init__(self, config: C, env: BuildEnv | None = None) -> None:
        self.config = config
        self.name = config.name

    @property
    @abstractmethod
    def input_columns(self) -> set[str]:
        """Columns the block reads; checked against earlier blocks when the pipeline is built."""

    def output_columns(self, available: set[str]) -> set[str]:
        """Columns present after the block, given those present before it."""
        return available

    @abstractmethod
    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        """Turn a batch of rows into rows; rows that cannot be made are counted in ``dropped``."""

    def reason(self, what: str) -> str:
        """Drop reasons name the block so counts say where rows were lost."""
        return f"{self.name}: {what}"

    def reject(self, out: BlockOutput, row: Row, what: str, **details: Any) -> None:
        """Count a dropped row under ``what`` and keep it (with ``details``) for ``dropped/<leaf>.jsonl``."""
        reason = self.reason(what)
        out.dropped[reason] += 1
        out.rejected.append({"reason": reason, "block": self.name, **details, "row": row})
