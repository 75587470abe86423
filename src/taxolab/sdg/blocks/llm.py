"""Blocks that ask the teacher: render a prompt per row, call, parse columns out of the answer.

The raw answer is kept on each row under ``_raw[<block name>]`` so a surprising
row can always be traced to what the teacher actually said. A row whose
request fails or whose answer cannot be parsed is dropped and counted; a
teacher that is down (:class:`EndpointDownError`) stops the batch instead,
because every later row would fail the same way.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

import jinja2
from pydantic import Field, field_validator

from taxolab.llm.client import Completion
from taxolab.llm.errors import EndpointDownError, EndpointError
from taxolab.sdg.blocks.base import Block, BlockConfig, BlockContext, BlockOutput, Row
from taxolab.sdg.blocks.build import BuildEnv, BuildError
from taxolab.sdg.parsing import Parser, RegexParser, TagParser
from taxolab.sdg.prompts import PromptConfig


class LLMConfig(BlockConfig):
    prompt: str = Field(description="Prompt config file, relative to the pipeline or a shipped prompt.")
    output_columns: list[str] = Field(min_length=1)
    n: int = Field(1, ge=1, description="Answers to sample per row.")
    gen_kwargs: dict[str, Any] = Field(default_factory=dict)
    regex: str | None = Field(None, description="Parse with this regex instead of the prompt's tags.")
    multiple: bool = Field(False, description="Keep every record parsed from one answer (else the first).")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value


class ConditionalLLMConfig(LLMConfig):
    prompt: str = ""
    select_column: str = Field(description="Column whose value picks the prompt.")
    prompts: dict[str, str] = Field(min_length=1, description="Column value -> prompt config.")


class LLMBlock(Block[LLMConfig]):
    kind = "llm"
    Config: ClassVar[type[BlockConfig]] = LLMConfig

    def __init__(self, config: LLMConfig, env: BuildEnv | None = None) -> None:
        super().__init__(config, env)
        assert env is not None, "LLM blocks load prompts and need a BuildEnv"
        self.prompts = self._load_prompts(config, env)
        self.parsers = {key: self._parser(prompt, config) for key, prompt in self.prompts.items()}

    def _load_prompts(self, config: LLMConfig, env: BuildEnv) -> dict[str, PromptConfig]:
        return {"": env.prompt(config.prompt)}

    @staticmethod
    def _parser(prompt: PromptConfig, config: LLMConfig) -> Parser:
        columns = tuple(config.output_columns)
        if config.regex is not None:
            return RegexParser(columns, re.compile(config.regex, re.IGNORECASE | re.DOTALL))
        if len(prompt.start_tags) != len(columns):
            raise BuildError(
                "output_columns",
                f"{len(columns)} output columns but prompt {prompt.path.name} has {len(prompt.start_tags)} start tags",
            )
        return TagParser(columns, prompt.start_tags, prompt.end_tags)

    @property
    def input_columns(self) -> set[str]:
        return set().union(*(prompt.input_columns for prompt in self.prompts.values()))

    def output_columns(self, available: set[str]) -> set[str]:
        return available | set(self.config.output_columns)

    def choose(self, row: Row) -> str:
        return ""

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        results = await asyncio.gather(*(self._one(row, ctx) for row in rows))
        out = BlockOutput(rows=[])
        for result in results:
            out.rows.extend(result.rows)
            out.dropped.update(result.dropped)
            out.rejected.extend(result.rejected)
        return out

    async def _one(self, row: Row, ctx: BlockContext) -> BlockOutput:
        out = BlockOutput(rows=[])
        rendered = self._render(row, out)
        if rendered is None:
            return out
        key, messages = rendered
        try:
            completions = await self._ask(messages, row, ctx)
        except EndpointDownError:
            raise
        except EndpointError:
            out.dropped[self.reason("teacher request failed")] += 1
            return out
        self._parse(key, completions, row, out)
        return out

    def _render(self, row: Row, out: BlockOutput) -> tuple[str, list[dict[str, Any]]] | None:
        """The prompt key and chat messages for ``row``; None (counted in ``out.dropped``) when none renders."""
        key = self.choose(row)
        if key not in self.prompts:
            out.dropped[self.reason(f"no prompt for value {key!r}")] += 1
            return None
        try:
            return key, self.prompts[key].messages(row)
        except jinja2.TemplateError as exc:
            out.dropped[self.reason(f"prompt could not be rendered ({exc})")] += 1
            return None

    def _parse(self, key: str, completions: list[Completion], row: Row, out: BlockOutput) -> None:
        """Parsed rows of ``completions`` into ``out.rows`` (raw text kept); unparseable ones into ``out.rejected``."""
        for completion in completions:
            records = self.parsers[key].parse(completion.text)
            raw = {**row.get("_raw", {}), self.name: completion.text}
            if not records:
                self.reject(out, {**row, "_raw": raw}, "unparseable teacher output")
                continue
            for record in records if self.config.multiple else records[:1]:
                out.rows.append({**row, **record, "_raw": raw})

    async def _ask(self, messages: list[dict[str, Any]], row: Row, ctx: BlockContext) -> list[Completion]:
        """The teacher's answers for one row (``n`` samples in one request)."""
        assert ctx.teacher is not None, "an LLM block needs a teacher"
        return await ctx.teacher.chat(messages, n=self.config.n, **self._gen_kwargs(ctx))

    def _gen_kwargs(self, ctx: BlockContext) -> dict[str, Any]:
        kwargs = {**ctx.gen_defaults, **self.config.gen_kwargs}
        cap = ctx.gen_defaults.get("max_tokens")
        if cap is not None and "max_tokens" in self.config.gen_kwargs:
            kwargs["max_tokens"] = min(int(cap), int(self.config.gen_kwargs["max_tokens"]))
        return kwargs


class ConditionalLLMBlock(LLMBlock):
    """Like ``llm``, with the prompt chosen per row by the value of ``select_column``."""

    kind = "conditional_llm"
    Config: ClassVar[type[BlockConfig]] = ConditionalLLMConfig

    def _load_prompts(self, config: LLMConfig, env: BuildEnv) -> dict[str, PromptConfig]:
        assert isinstance(config, ConditionalLLMConfig)
        return {value: env.prompt(reference, "prompts") for value, reference in config.prompts.items()}

    @property
    def input_columns(self) -> set[str]:
        assert isinstance(self.config, ConditionalLLMConfig)
        return super().input_columns | {self.config.select_column}

    def choose(self, row: Row) -> str:
        assert isinstance(self.config, ConditionalLLMConfig)
        return str(row.get(self.config.select_column))
