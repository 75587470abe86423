"""Blocks for knowledge data that is true by construction (issue 11).

- ``split_spans``: a document chunk -> one row per answer span (a sentence, or
  two short ones), the span being the answer (answer-first generation,
  instruction backtranslation, Li et al. 2023).
- ``span_questions``: the teacher writes only a question for a span, several
  phrasings per span (``generate.questions_per_span``, ``n`` choices of one
  request), asked again for spans left with too few usable ones.
- ``question_check``: a closed-book question must stand on its own, be a
  question, and not contain its answer.
- ``grounding_check``: teacher-written answers and summaries must take their
  numbers, names and content words from the source passage
  (:mod:`taxolab.sdg.grounding`).

Checks keep every row they drop (with the reason) for ``dropped/<leaf>.jsonl``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from taxolab.llm.client import Completion
from taxolab.llm.errors import EndpointDownError, EndpointError
from taxolab.sdg.blocks.base import Block, BlockConfig, BlockContext, BlockOutput, Row
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.blocks.llm import LLMBlock, LLMConfig
from taxolab.sdg.grounding import DEFAULT_MIN_SHARE, check_grounding, content_stems
from taxolab.sdg.prompts import PromptConfig
from taxolab.sdg.spans import MIN_SPAN_WORDS, document_spans, normalize, strip_markdown, word_count

ANSWER_FIRST = "answer_first"
DEFAULT_QUESTIONS_PER_SPAN = 3
DEFAULT_MAX_ATTEMPTS = 3
"""Requests per span when the run gives no ``generate.max_attempts_per_span``."""


class SplitSpansConfig(BlockConfig):
    column: str = Field("document", description="The Markdown text to split (a document chunk).")
    min_words: int = Field(MIN_SPAN_WORDS, ge=1, description="A shorter sentence is merged with its neighbour.")


class SplitSpans(Block[SplitSpansConfig]):
    """One row per span of ``column``: adds ``span``, ``answer`` (= span), ``span_id`` and ``dataset_type``.

    ``span_id`` is ``"<chunk index>:<span index>"`` (stable for a given chunking).
    """

    kind = "split_spans"
    Config = SplitSpansConfig

    @property
    def input_columns(self) -> set[str]:
        return {self.config.column}

    def output_columns(self, available: set[str]) -> set[str]:
        return available | {"span", "answer", "span_id", "dataset_type"}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        out = BlockOutput([])
        for row in rows:
            chunk = row.get("chunk_index", row.get("seed_index", 0))
            for index, span in enumerate(document_spans(str(row[self.config.column]), min_words=self.config.min_words)):
                out.rows.append(
                    {**row, "span": span, "answer": span, "span_id": f"{chunk}:{index}", "dataset_type": ANSWER_FIRST}
                )
        return out


class SpanQuestionsConfig(LLMConfig):
    output_columns: list[str] = Field(default_factory=lambda: ["question"], min_length=1, max_length=1)
    questions: int | None = Field(
        None, ge=1, description="Questions wanted per span (default: generate.questions_per_span, else 3)."
    )
    top_up: dict[str, Any] | None = Field(
        None,
        description=(
            "A check block (written like any block, e.g. the pipeline's question_check) that counts each "
            "request's usable questions: a span with fewer distinct ones than `questions` is asked again, up to "
            "generate.max_attempts_per_span requests. It only counts; the pipeline's own check drops."
        ),
    )


class SpanQuestions(LLMBlock):
    """The teacher writes ``questions`` questions for each span: all in one request (``n`` choices, seeded),
    then more requests for a span whose usable questions (by the ``top_up`` check) are still too few.

    Prompt layout: the prompt's few-shot turns are the same for every row of a leaf
    (:meth:`PromptConfig.example_turns`) and the span comes last, so a server with a prompt cache reads
    only the span per request. Request ``a`` (0, 1, ...) of a span asks for the questions still missing,
    seeded by the run seed, the span and ``a``, so a rerun asks exactly the same. An endpoint that returns
    fewer choices than asked (one that ignores ``n``) gets the rest as separately seeded requests.
    Every question parsed goes on (the pipeline's own check drops and keeps why); the copy check below
    drops as ``copied_example``. Budget: at most ``generate.max_attempts_per_span`` requests per span
    (:data:`DEFAULT_MAX_ATTEMPTS`), so a leaf costs at most spans x that many requests.

    The answer is parsed leniently: a leading "Question:" label is dropped and
    the first line is kept, up to its first "?"; whether that is a usable
    question is :class:`QuestionCheck`'s call, so bad phrasings are counted.
    """

    kind = "span_questions"
    Config: ClassVar[type[BlockConfig]] = SpanQuestionsConfig
    build_check: ClassVar[Callable[[dict[str, Any], BuildEnv | None], Block[Any]] | None] = None
    """Builds the ``top_up`` check; :mod:`taxolab.sdg.blocks.registry` sets it (it knows every block kind)."""

    def __init__(self, config: SpanQuestionsConfig, env: BuildEnv | None = None) -> None:
        super().__init__(config, env)
        self.check: Block[Any] | None = None
        if config.top_up is not None:
            if SpanQuestions.build_check is None:
                raise RuntimeError("build span_questions blocks with taxolab.sdg.blocks.registry.build_block")
            self.check = SpanQuestions.build_check({"name": f"{config.name}.top_up", **config.top_up}, env)

    @property
    def input_columns(self) -> set[str]:
        own = super().input_columns
        if self.check is None:
            return own
        return own | (self.check.input_columns - set(self.config.output_columns))

    async def _one(self, row: Row, ctx: BlockContext) -> BlockOutput:
        """All requests for one span: the first pass, then top-ups while usable questions are too few."""
        out = BlockOutput([])
        rendered = self._render(row, out)
        if rendered is None:
            return out
        key, messages = rendered
        wanted = self._wanted(ctx)
        attempts = int(ctx.settings.get("max_attempts_per_span") or DEFAULT_MAX_ATTEMPTS)
        usable: set[str] = set()
        for attempt in range(attempts):
            missing = wanted - len(usable)
            if missing <= 0:
                break
            try:
                completions = await self._sample(messages, row, ctx, missing, attempt)
            except EndpointDownError:
                raise
            except EndpointError:
                out.dropped[self.reason("teacher request failed")] += 1
                break
            fresh = BlockOutput([])
            self._parse(key, completions, row, fresh)
            fresh = self._drop_copied(fresh, self.prompts[key], row)
            out.rows.extend(fresh.rows)
            out.dropped.update(fresh.dropped)
            out.rejected.extend(fresh.rejected)
            if self.check is None:
                break
            checked = await self.check.run(fresh.rows, ctx)
            usable |= {normalize(str(r[self.config.output_columns[0]])) for r in checked.rows}
        return out

    def _wanted(self, ctx: BlockContext) -> int:
        assert isinstance(self.config, SpanQuestionsConfig)
        return self.config.questions or int(ctx.settings.get("questions_per_span") or DEFAULT_QUESTIONS_PER_SPAN)

    async def _sample(
        self, messages: list[dict[str, Any]], row: Row, ctx: BlockContext, count: int, attempt: int
    ) -> list[Completion]:
        """``count`` seeded choices in one request; the rest one by one if the endpoint sent fewer."""
        assert ctx.teacher is not None, "an LLM block needs a teacher"
        kwargs = self._gen_kwargs(ctx)
        key = f"{ctx.seed}:{self.name}:{row.get('span_id')}:{row.get('span')}:{attempt}"
        got = await ctx.teacher.chat(messages, n=count, **{"seed": _int_seed(key), **kwargs})
        if len(got) < count:
            more = await asyncio.gather(
                *(
                    ctx.teacher.chat(messages, n=1, **{"seed": _int_seed(f"{key}:{i}"), **kwargs})
                    for i in range(len(got), count)
                )
            )
            got = [*got, *(completion for answer in more for completion in answer)]
        return got

    def _drop_copied(self, out: BlockOutput, prompt: PromptConfig, source_row: Row) -> BlockOutput:
        """Drop a question that takes words from the prompt's examples absent from the passage, or that
        repeats an example's question, as ``copied_example`` (the 135M teacher often asks about a generic
        example's koala instead, or echoes a seed question)."""
        kept = BlockOutput([], out.dropped, out.rejected)
        column = self.config.output_columns[0]
        turns = prompt.example_turns(source_row)
        for row in out.rows:
            question = str(row.get(column) or "")
            copied: set[str] = set()
            if turns == prompt.turns:
                # generic examples: their distinctive words (5+ letters: "koala", "eucalyptus", "Warsaw"), not
                # "eat" or "live", must not appear unless the passage has them. The leaf's own seed examples
                # share the leaf's topic, so for them only an echoed question counts as copied.
                example_stems = {s for s in content_stems(" ".join(f"{u} {a}" for u, a in turns)) if len(s) >= 5}
                source = set(content_stems(f"{row.get('span', '')} {row.get('document', '')}"))
                copied = set(content_stems(question)) & (example_stems - source)
            echoed = any(normalize(question) == normalize(_LABEL.sub("", answer)) for _, answer in turns)
            if copied or echoed:
                self.reject(kept, row, "copied_example", words=sorted(copied) or ["<an example's question>"])
            else:
                kept.rows.append(row)
        return kept

    @staticmethod
    def _parser(prompt: PromptConfig, config: LLMConfig) -> Any:
        return _QuestionParser(config.output_columns[0])


def _int_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


_LABEL = re.compile(r"^\W*(?:q(?:uestion)?\s*\d*\s*[:.)\-]\s*)", re.IGNORECASE)
_QUESTION = re.compile(
    r"\b((?:what|who|whom|whose|when|where|why|how|which|is|are|was|were|does|do|did|can|could|in|on|at|from|for|by|"
    r"to|during|after|before|about)\b[^?\n\"“”:]{6,}\?)",
    re.IGNORECASE,
)


class _QuestionParser:
    """The first question-worded clause ending in "?" anywhere in the answer (small teachers add preambles
    such as 'Sure! Here is a question:'); failing that, the first line without its label, for the checks to judge.
    """

    def __init__(self, column: str) -> None:
        self.column = column

    def parse(self, text: str) -> list[dict[str, str]]:
        match = _QUESTION.search(text)
        if match:
            question = match.group(1).strip()
            return [{self.column: question[:1].upper() + question[1:]}]
        for line in text.splitlines():
            line = _LABEL.sub("", line.strip()).strip(" \t*_`\"'")  # noqa: PLW2901
            if not line:
                continue
            mark = min((line.index(q) for q in "?？" if q in line), default=-1)
            if mark >= 0:
                line = line[: mark + 1]  # noqa: PLW2901
            return [{self.column: line.strip()}]
        return []


NOT_STANDALONE = (
    r"\bth(?:is|e|at) (?:sentence|passage|document|text|paragraph|article|excerpt|statement|context|section)s?\b",
    r"\b(?:above|below|mentioned|aforementioned|given text|provided|according to the)\b",
    r"\bthe (?:author|writer)\b",
)
_PRONOUNS = {"it", "its", "they", "their", "them", "he", "his", "she", "her", "this", "these", "those"}


class QuestionCheckConfig(BlockConfig):
    question: str = Field("question", description="Column holding the question.")
    answer: str = Field("answer", description="Column holding its answer.")
    topic: str | None = Field(
        None, description="Optional column naming the subject: a question whose only subject is a pronoun is dropped."
    )
    not_standalone: list[str] = Field(
        default_factory=lambda: list(NOT_STANDALONE),
        description="Regexes (case-insensitive) of phrases that make a question lean on an unseen text.",
    )
    min_words: int = Field(3, ge=1, description="Shorter questions are not questions.")
    related: bool = Field(
        True, description="Drop a question that shares no content word with its answer (``unrelated``)."
    )


class QuestionCheck(Block[QuestionCheckConfig]):
    """Keep a closed-book question only if it stands alone, is a question, and does not hold its answer.

    Dropped rows are counted under ``not_standalone`` (it points at a text the
    reader does not see: "this sentence", "the passage", "mentioned" ...; or,
    with ``topic`` set, its only subject is a pronoun), ``not_a_question`` (no
    "?" at the end, or under ``min_words`` words) and ``answer_in_question``
    (the answer's normalised text is in the question, or the question copies
    a run of at least max(4, 60%) of the answer's words), and ``unrelated``
    (no content word in common with the answer, besides the topic's words:
    the teacher copied a prompt example or asked about the document's subject
    in general, which the 135M default teacher often does). Source: issue 11.
    """

    kind = "question_check"
    Config = QuestionCheckConfig

    def __init__(self, config: QuestionCheckConfig, env: BuildEnv | None = None) -> None:
        super().__init__(config, env)
        self.patterns = [re.compile(pattern, re.IGNORECASE) for pattern in config.not_standalone]

    @property
    def input_columns(self) -> set[str]:
        config = self.config
        return {config.question, config.answer} | ({config.topic} if config.topic else set())

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        out = BlockOutput([])
        for row in rows:
            problem = self.problem(row)
            if problem is None:
                out.rows.append(row)
            else:
                self.reject(out, row, problem)
        return out

    def problem(self, row: Row) -> str | None:
        """The drop reason for one row, or None when the question is usable."""
        question = str(row.get(self.config.question) or "").strip()
        answer = str(row.get(self.config.answer) or "")
        words = normalize(question).split()
        if not question.endswith(("?", "？")) or word_count(question) < self.config.min_words or "\n" in question:
            return "not_a_question"
        if any(pattern.search(question) for pattern in self.patterns):
            return "not_standalone"
        if answer_in_question(question, answer):
            return "answer_in_question"
        if self.config.related and answer and not self._related(question, answer, row):
            return "unrelated"
        if self.config.topic and self._pronoun_only(words, str(row.get(self.config.topic) or "")):
            return "not_standalone"
        return None

    def _related(self, question: str, answer: str, row: Row) -> bool:
        """A content word in common with the answer, besides the topic's own words when the answer has others."""
        answer_stems = set(content_stems(answer))
        topic = set(content_stems(str(row.get(self.config.topic) or ""))) if self.config.topic else set()
        specific = answer_stems - topic or answer_stems
        return bool(set(content_stems(question)) & specific)

    @staticmethod
    def _pronoun_only(words: list[str], topic: str) -> bool:
        if not _PRONOUNS.intersection(words):
            return False
        topic_words = {word for word in normalize(strip_markdown(topic)).split() if len(word) >= 4}
        return not any(word in topic_words or word.rstrip("s") in topic_words for word in words)


def answer_in_question(question: str, answer: str) -> bool:
    """The answer (normalised) is inside the question, or the question copies a long run of its words."""
    q, a = normalize(question).split(), normalize(answer).split()
    if not a:
        return False
    if _contains(q, a):
        return True
    need = max(4, -(-len(a) * 3 // 5))
    return len(a) >= need and _longest_common_run(q, a) >= need


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _longest_common_run(a: list[str], b: list[str]) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


class GroundingCheckConfig(BlockConfig):
    columns: list[str] = Field(min_length=1, description="Teacher-written columns to check (answers, summaries).")
    source: str = Field("raw_document", description="Column holding the source passage.")
    min_share: float = Field(DEFAULT_MIN_SHARE, ge=0, le=1, description="Share of content words found in the source.")


class GroundingCheck(Block[GroundingCheckConfig]):
    """Drop a row when a checked column is not grounded in ``source`` (rule: :mod:`taxolab.sdg.grounding`).

    Dropped rows count as ``ungrounded`` and are kept with what was missing.
    A column equal to the source (e.g. the chunk itself) passes unchecked.
    """

    kind = "grounding_check"
    Config = GroundingCheckConfig

    @property
    def input_columns(self) -> set[str]:
        return {*self.config.columns, self.config.source}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        out = BlockOutput([])
        for row in rows:
            source = str(row.get(self.config.source) or "")
            failed = None
            for column in self.config.columns:
                text = str(row.get(column) or "")
                if not text or text == source:
                    continue
                verdict = check_grounding(text, source, min_share=self.config.min_share)
                if not verdict.grounded:
                    failed = {"column": column, **verdict.explain()}
                    break
            if failed is None:
                out.rows.append(row)
            else:
                self.reject(out, row, "ungrounded", detail=failed)
        return out
