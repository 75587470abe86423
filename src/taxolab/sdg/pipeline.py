"""Pipelines: a YAML list of blocks, checked completely when loaded.

Every problem is reported as ``pipeline.yaml:line: problem`` -- an unknown
block kind, a bad field, a prompt that does not fit its output columns, or a
block reading a column that neither the seed rows nor an earlier block make.

    version: 1
    description: ...
    inputs: [document, icl_examples]      # columns of the seed rows
    seed_rows: scaled                     # knowledge only: `scaled` (by --sdg-scale-factor) or `per_chunk`
    blocks:
      - block: llm
        name: gen_qa
        prompt: knowledge/generate_qa.yaml
        output_columns: [question, answer]
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from taxolab.errors import LocatedError, SourceLocation
from taxolab.sdg.blocks import Block, BlockContext, BlockOutput, Row, build_block
from taxolab.sdg.blocks.build import BuildEnv, BuildError
from taxolab.yamlio import load_yaml, plain

_TOP_KEYS = {"version", "description", "inputs", "seed_rows", "blocks"}
SEED_ROWS = ("scaled", "per_chunk")


@dataclass(frozen=True)
class Pipeline:
    path: Path
    description: str
    inputs: frozenset[str]
    blocks: tuple[Block[Any], ...]
    outputs: frozenset[str]
    seed_rows: str = "scaled"
    """Knowledge pipelines: ``scaled`` (rows per chunk follow --sdg-scale-factor) or ``per_chunk`` (one row each)."""
    line: int = 1
    """Line of the last block in the file: where a missing output column is reported."""
    prompt_files: tuple[Path, ...] = ()
    """Every prompt file its blocks loaded (nested blocks included): with :attr:`path`, what its rows depend on."""

    @property
    def files(self) -> tuple[Path, ...]:
        """The pipeline file and every prompt file it uses; their bytes are part of generation fingerprints."""
        return (self.path, *self.prompt_files)

    @property
    def name(self) -> str:
        return self.path.stem

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        """Push one batch through every block in order; drops accumulate per reason."""
        dropped: Counter[str] = Counter()
        rejected: list[Row] = []
        for block in self.blocks:
            if not rows:
                break
            out = await block.run(rows, ctx)
            rows = out.rows
            dropped.update(out.dropped)
            rejected.extend(out.rejected)
        return BlockOutput(rows, dropped, rejected)


def load_pipeline(path: Path) -> Pipeline:
    """Read, validate and build a pipeline; blocks are built once here and reused for every batch."""
    doc = _read(path)
    location = _Locator(path)
    for key in doc:
        if key not in _TOP_KEYS:
            raise location.error(doc, key, f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    if doc.get("version", 1) != 1:
        raise location.error(
            doc, "version", f"unsupported pipeline version {doc.get('version')!r} (this taxolab reads 1)"
        )
    seed_rows = doc.get("seed_rows", "scaled")
    if seed_rows not in SEED_ROWS:
        raise location.error(doc, "seed_rows", f"`seed_rows` is one of {', '.join(SEED_ROWS)}, not {seed_rows!r}")
    inputs = doc.get("inputs") or []
    if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
        raise location.error(doc, "inputs", "`inputs` is a list of column names")
    nodes = doc.get("blocks")
    if not isinstance(nodes, CommentedSeq) or not nodes:
        raise location.error(doc, "blocks" if "blocks" in doc else None, "a pipeline needs a non-empty `blocks` list")
    env = BuildEnv(path.parent)
    blocks: list[Block[Any]] = []
    available = set(inputs)
    names: set[str] = set()
    for index, node in enumerate(nodes):
        block_line = nodes.lc.item(index)[0] + 1
        if not isinstance(node, CommentedMap):
            raise LocatedError(SourceLocation(path, block_line), "each block is a mapping with `block:` and `name:`")
        block = _build(node, env, location, block_line)
        if block.name in names:
            raise location.error(node, "name", f"duplicate block name {block.name!r}")
        names.add(block.name)
        missing = sorted(block.input_columns - available)
        if missing:
            raise LocatedError(
                SourceLocation(path, block_line),
                f"block {block.name!r} reads {', '.join(missing)}, which neither the inputs nor an earlier block "
                f"make (available: {', '.join(sorted(available)) or 'none'})",
            )
        available = block.output_columns(available)
        blocks.append(block)
    return Pipeline(
        path,
        str(doc.get("description") or ""),
        frozenset(inputs),
        tuple(blocks),
        frozenset(available),
        seed_rows=str(seed_rows),
        line=nodes.lc.item(len(nodes) - 1)[0] + 1,
        prompt_files=env.loaded(),
    )


def check_outputs(pipeline: Pipeline, needed: set[str], purpose: str) -> None:
    """Fail at load, at ``pipeline.yaml:line``, when the pipeline's rows lack a column ``purpose`` reads.

    Mixing reads ``question`` and ``answer`` (and ``document`` for knowledge),
    test questions ``question``, ``choices`` and ``answer``; without this check
    a custom pipeline spends its teacher calls and then fails on a missing key.
    """
    missing = sorted(needed - pipeline.outputs)
    if missing:
        raise LocatedError(
            SourceLocation(pipeline.path, pipeline.line),
            f"the pipeline's rows lack {', '.join(missing)}, which {purpose} needs (its rows have: "
            f"{', '.join(sorted(pipeline.outputs)) or 'none'}); add a block that makes "
            f"{'it' if len(missing) == 1 else 'them'} (e.g. `rename`)",
        )


def _read(path: Path) -> CommentedMap:
    doc = load_yaml(path, "pipeline file")
    if not isinstance(doc, CommentedMap):
        raise LocatedError(SourceLocation(path, 1), "a pipeline is a mapping with `blocks:`")
    return doc


def _build(node: CommentedMap, env: BuildEnv, location: _Locator, block_line: int) -> Block[Any]:
    config = plain(node)
    try:
        return build_block(config, env)
    except BuildError as exc:
        raise location.error(node, exc.key, exc.message, block_line) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(part) for part in error["loc"]]
        key = loc[0] if loc and loc[0] in node else None
        field = ".".join(loc) if loc else "block"
        message = error["msg"] if error["type"] != "missing" else "required field missing"
        raise location.error(node, key, f"{field}: {message}", block_line) from None


@dataclass(frozen=True)
class _Locator:
    path: Path

    def error(self, node: Any, key: str | None, message: str, fallback: int = 1) -> LocatedError:
        line = fallback
        if key is not None:
            with contextlib.suppress(AttributeError, KeyError, TypeError):
                line = node.lc.key(key)[0] + 1
        return LocatedError(SourceLocation(self.path, line), message)
