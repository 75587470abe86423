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
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import Field

from taxolab.llm.client import Completion
from taxolab.llm.errors import EndpointDownError, EndpointError
from taxolab.sdg.blocks.base import Block, BlockConfig, BlockContext, BlockOutput, Row
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.blocks.llm import LLMBlock, LLMConfig
from taxolab.sdg.grounding import DEFAULT_MIN_SHARE, check_grounding
from taxolab.sdg.prompts import PromptConfig
from taxolab.sdg.referents import answer_spans, document_subject, subject_named
from taxolab.sdg.spans import (
    MIN_SPAN_WORDS,
    document_spans,
    strip_markdown,
    word_count,
)
from taxolab.text import (
    COMPARATIVES,
    QUESTION_FRAME_WORDS,
    STOP_WORDS,
    TIME_WORDS,
    AnswerType,
    answer_type,
    content_stems,
    counted_noun,
    counted_nouns,
    defined_term,
    defines,
    demonstrative_subject,
    is_number,
    latin_script,
    normal_form,
    normalize,
    numbers,
    place_words,
    repeated_run,
    same_word,
    sentence_names,
    stem,
    superlatives,
    terms,
    unresolved_reference,
    without_question_phrase,
)

ANSWER_FIRST = "answer_first"
DEFAULT_QUESTIONS_PER_SPAN = 3
DEFAULT_MAX_ATTEMPTS = 3
"""Requests per span when the run gives no ``generate.max_attempts_per_span``."""
MAX_QUESTIONS_PER_SPAN = 8
"""Most questions :func:`leaf_questions_per_span` raises a span to (eight ``n`` choices of one request)."""


def leaf_questions_per_span(spans: int, per_span: int, per_leaf: int) -> int:
    """Questions wanted per span of a leaf with ``spans`` answer spans (``generate.questions_per_leaf``).

    ``per_leaf`` 0 (off) or no spans: ``per_span``. Else ``per_leaf // spans``, never under ``per_span``
    nor over :data:`MAX_QUESTIONS_PER_SPAN` (unless ``per_span`` is). A short document gets more phrasings
    per fact in the teacher time a long one takes: with 700, the chickadee leaf (210 spans at 400-word
    chunks) asks 3 per span, zebu (86) and lapis lazuli (69) 8. Why: a fact is recalled under a new
    phrasing after varied exposures (Allen-Zhu and Li, Physics of Language Models 3.1). Measured with
    bench/bench_knowledge_recall.py on zebu: 247 kept teacher pairs instead of 91, the run's own recall
    64% instead of 43%, hand-written questions 9/20 against 8 for 1.8x the minutes; so no profile sets it.
    """
    if per_leaf <= 0 or spans <= 0:
        return per_span
    return max(per_span, min(MAX_QUESTIONS_PER_SPAN, per_leaf // spans))


def leaf_spans(blocks: Iterable[Any], seeds: list[Row]) -> int:
    """The answer spans the first ``split_spans`` block of ``blocks`` makes of ``seeds`` (0 without one)."""
    return next((block.count(seeds) for block in blocks if isinstance(block, SplitSpans)), 0)


class SplitSpansConfig(BlockConfig):
    column: str = Field("document", description="The Markdown text to split (a document chunk).")
    min_words: int = Field(MIN_SPAN_WORDS, ge=1, description="A shorter sentence is merged with its neighbour.")
    subject: str = Field(
        "document_subject",
        description="Column naming the document's subject, for an opening 'It'/'Its' (else the chunk's title "
        "heading, else document_outline).",
    )


class SplitSpans(Block[SplitSpansConfig]):
    """One row per span of ``column``: adds ``span``, ``answer``, ``answer_original``, ``span_id``, ``dataset_type``.

    ``answer`` (and ``span``, which the teacher is shown) is the span with an opening
    pronoun replaced by its referent (:mod:`taxolab.sdg.referents`: "It is of magnitude
    13.05" -> "Gliese 915 is of magnitude 13.05"); ``answer_original`` is the document's
    own text. The subject for a paragraph's opening "It" is the row's ``subject`` column
    (the leaf's document title, set by :func:`taxolab.sdg.seeds.knowledge_seeds`), else the
    chunk's own title heading, else the leaf's ``document_outline``.
    ``span_id`` is ``"<chunk index>:<span index>"`` (stable for a given chunking).
    """

    kind = "split_spans"
    Config = SplitSpansConfig

    def count(self, rows: list[Row]) -> int:
        """How many spans :meth:`run` makes of ``rows``, without resolving referents (the same count)."""
        column, min_words = self.config.column, self.config.min_words
        return sum(len(document_spans(str(row.get(column, "")), min_words=min_words)) for row in rows)

    @property
    def input_columns(self) -> set[str]:
        return {self.config.column}

    def output_columns(self, available: set[str]) -> set[str]:
        return available | {"span", "answer", "answer_original", "span_id", "dataset_type"}

    async def run(self, rows: list[Row], ctx: BlockContext) -> BlockOutput:
        out = BlockOutput([])
        for row in rows:
            chunk = row.get("chunk_index", row.get("seed_index", 0))
            text = str(row[self.config.column])
            named = str(row.get(self.config.subject) or "")
            subject = subject_named(named, text) if named else None
            subject = subject or document_subject(text, str(row.get("document_outline") or ""))
            for index, span in enumerate(answer_spans(text, subject, min_words=self.config.min_words)):
                out.rows.append(
                    {
                        **row,
                        "span": span.answer,
                        "answer": span.answer,
                        "answer_original": span.original,
                        "span_id": f"{chunk}:{index}",
                        "dataset_type": ANSWER_FIRST,
                    }
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


DEFAULT_MIN_COVERAGE = 2 / 3
"""Measured on tests/sdg/data/question_check_labels.yaml (120 hand-labelled pairs of a chickadee run): see
docs/generate.md for precision and recall at this value."""


class QuestionCheckConfig(BlockConfig):
    question: str = Field("question", description="Column holding the question.")
    answer: str = Field("answer", description="Column holding its answer.")
    topic: str | None = Field(
        None,
        description="Optional column naming the subject (the leaf's document_outline): a question that names "
        "neither a word of it nor a name (its subject is a pronoun or 'the male') is dropped; its words are not "
        "asked of the answer.",
    )
    not_standalone: list[str] = Field(
        default_factory=lambda: list(NOT_STANDALONE),
        description="Regexes (case-insensitive) of phrases that make a question lean on an unseen text.",
    )
    min_words: int = Field(3, ge=1, description="Shorter questions are not questions.")
    related: bool = Field(
        True, description="Drop a question whose own content words the answer lacks (``unrelated``, min_coverage)."
    )
    min_coverage: float = Field(
        DEFAULT_MIN_COVERAGE,
        ge=0,
        le=1,
        description="Share of the question's own content words (not the topic's, not frame words such as 'kind' "
        "or 'purpose') the answer must hold, compared as stems; 0 keeps a question sharing one word.",
    )
    focus: bool = Field(
        True,
        description="Drop a question whose answer lacks what it asks for: a number counting the asked thing for "
        "'how many', a number for 'how long/old/...', a date or time word for 'when', a name for 'who', a place "
        "for 'where', a ranking for 'the most/first ...' (``focus_missing``). English questions only.",
    )


class QuestionCheck(Block[QuestionCheckConfig]):
    """Keep a closed-book question only if it is a question, stands alone and is answered by its answer.

    Drop reasons, counted in ``dropped/<leaf>.jsonl`` (:data:`QUESTION_CHECK_REASONS`):

    - ``not_a_question``: no "?" at the end, under ``min_words`` words, or several lines;
    - ``not_standalone``: it points at a text the reader does not see ("this sentence", "the passage",
      "mentioned", "How many light years is that?", "How many planets are in total?"); or, with ``topic``
      set, it names no subject: neither a word of the topic nor a name ("When was it described?", "What is
      the relationship between the male and female?");
    - ``answer_in_question``: the answer's normalised text is in the question, or the question copies a
      run of at least max(4, 60%) of the answer's words;
    - ``unrelated``: the answer holds under ``min_coverage`` of the question's own content words (an
      answer-first question is written from its answer, so its words come from there; the 135M teacher
      invents premises -- "a bird not immune to West Nile virus" -- or asks about another fact of the document);
    - ``focus_missing``: the answer lacks the kind of thing asked for (:func:`taxolab.text.answer_type`):
      "How many meteors ...?" answered by "two annual meteor showers" counts showers, not meteors.

    The English rules (demonstratives, two questions, coverage, focus) apply to questions in Latin script;
    others get the script-neutral ones and one shared content word. Precision and recall on 120 labelled
    pairs: docs/generate.md. Sources: issue 11 (first rules), issue 16 (coverage, focus, subject).
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
        """The drop reason for one row (one of :data:`QUESTION_CHECK_REASONS`), or None when it is usable."""
        config = self.config
        question = str(row.get(config.question) or "").strip()
        answer = str(row.get(config.answer) or "")
        topic = str(row.get(config.topic) or "") if config.topic else ""
        english = latin_script(question)
        if not question.endswith(("?", "？")) or word_count(question) < config.min_words or "\n" in question:
            return "not_a_question"
        if english and (repeated_run(question) or _HYPOTHETICAL.match(question)):
            return "not_a_question"  # garbled ("the 1989 study on the 1989 study") or no fact asked ("What if ...?")
        if any(pattern.search(question) for pattern in self.patterns) or (english and unresolved_reference(question)):
            return "not_standalone"
        if answer_in_question(question, answer):
            return "answer_in_question"
        if config.related and answer and not self._related(question, answer, topic, english):
            return "unrelated"
        if config.topic and not _names_subject(question, topic, english):
            return "not_standalone"
        if config.focus and answer and english and not focus_answered(question, answer):
            return "focus_missing"
        return None

    def _related(self, question: str, answer: str, topic: str, english: bool) -> bool:
        """The answer holds ``min_coverage`` of the question's own content words (at least one); a question
        made only of the topic's words must share a word with what the answer says beyond the topic."""
        answer_stems = set(content_stems(answer))
        topic_stems = set(content_stems(topic))
        subject = demonstrative_subject(answer)
        if english and subject and not any(_same(stem(subject), q) for q in content_stems(question)):
            return False  # "These species will react when ..." answers a question about another subject
        asked = content_stems(without_question_phrase(question))
        own = [s for s in dict.fromkeys(asked) if s not in topic_stems and s not in _FRAME_STEMS]
        if english and not own and answer_type(question) is not AnswerType.OTHER:
            return True  # "What is its habitat?", "How long does it live?": the focus check judges the answer
        if not english or not own:
            specific = answer_stems - topic_stems or answer_stems
            return bool(set(content_stems(question)) & specific)
        found = sum(1 for s in own if any(_same(s, a) for a in answer_stems))
        return found > 0 and found >= self.config.min_coverage * len(own)


QUESTION_CHECK_REASONS = (
    "not_a_question",
    "not_standalone",
    "answer_in_question",
    "unrelated",
    "focus_missing",
)
"""Every reason :class:`QuestionCheck` drops a row for (the part after "<block name>: " in a drop's reason)."""


def _same(a: str, b: str) -> bool:
    """:func:`taxolab.text.same_word`, but not across a length gap of 4+ letters ("chick" is not "chickadee")."""
    return same_word(a, b) and (abs(len(a) - len(b)) <= 3 or stem(a) == stem(b))


_HYPOTHETICAL = re.compile(r"\W*what if\b", re.IGNORECASE)
_FRAME_STEMS = frozenset(stem(word) for word in QUESTION_FRAME_WORDS)


def _names_subject(question: str, topic: str, english: bool) -> bool:
    """The question names what it asks about: a word of the topic (4+ letters), a name or a number.

    Other scripts: only a question whose sole subject is an English pronoun fails (no word lists for them).
    """
    words = normalize(question).split()
    if not english:
        topic_words = {word for word in normalize(strip_markdown(topic)).split() if len(word) >= 4}
        return any(word in topic_words for word in words) or not _PRONOUNS.intersection(words)
    topic_stems = {s for s in content_stems(topic) if len(s) >= 4}
    if topic_stems.intersection(content_stems(question)):
        return True
    return bool({name for name in sentence_names(question) if len(name) > 1}) or bool(numbers(question))


def focus_answered(question: str, answer: str) -> bool:
    """Whether ``answer`` holds what ``question`` asks for (English rules, :func:`taxolab.text.answer_type`).

    COUNT: a number not in the question that counts the asked noun ("how many eggs" -> "6-8 eggs"), or any
    new number when the noun is not found; NUMBER: a new number; TIME: a new number or time word; NAME: a
    new name or number in digits (or a new sentence-initial noun: "Males feed the young"; "A 1989 study"); PLACE: a new name or words after a
    place preposition ("in tree cavities"). A ranking word in the question ("the most common") needs one in
    the answer ("primarily", "the most", "maximum").
    """
    asked = answer_type(question)
    question_terms = {normal_form(t) for t in terms(question)}
    answer_terms = [normal_form(t) for t in terms(answer)]
    new_numbers = {t for t in answer_terms if is_number(t)} - question_terms
    if superlatives(question) and not superlatives(answer):
        return False
    compared = COMPARATIVES.intersection(t.lower() for t in terms(question))
    if any(not any(same_word(word, t) for t in answer_terms) for word in compared):
        return False  # "Which song is faster ...?" -> "a slower song"
    if asked is AnswerType.COUNT:
        noun = counted_noun(question)
        if noun is None or not new_numbers:
            return bool(new_numbers)
        return any(same_word(noun, counted) for counted in counted_nouns(answer))
    if asked is AnswerType.NUMBER:
        return bool(new_numbers)
    if asked is AnswerType.TIME:
        times = {normal_form(t) for t in terms(answer.lower()) if t in TIME_WORDS}
        return bool(new_numbers or times - question_terms)
    if asked is AnswerType.NAME:  # a person, or a named work or study ("which study" -> "a 1989 study")
        names = {name for name in sentence_names(answer) if len(name) > 1} | (numbers(answer) - numbers(question))
        first = terms(answer)[:1]
        if first and first[0][:1].isupper() and first[0].lower() not in STOP_WORDS:
            names.add(first[0].lower())
        return bool({normal_form(n) for n in names} - question_terms)
    if asked is AnswerType.PLACE:
        return bool({normal_form(w) for w in place_words(answer)} - question_terms)
    # "What is the Appalachian Mountains?" -> "It can also be found in the Appalachian Mountains." is no definition
    term = defined_term(question)
    return term is None or defines(answer, term)


ANSWER_SHARE_IN_QUESTION = 0.75
"""A question holding this share of its answer's content words (4 or more of them) asks nothing the answer
adds ("In what way is the 2011 study demonstrating that subordinate individuals are less cautious ...?")."""


def answer_in_question(question: str, answer: str) -> bool:
    """The answer (normalised) is inside the question, the whole question (4+ words) is a run of the answer's
    words ("Is sister to the mountain chickadee?": a piece of the sentence with a "?", issue 16), the question
    copies a long run of its words (max(4, 60%)), or it holds :data:`ANSWER_SHARE_IN_QUESTION` of the
    answer's distinct content stems."""
    q, a = normalize(question).split(), normalize(answer).split()
    if not a:
        return False
    if _contains(q, a) or (len(q) >= 4 and _contains(a, q)):
        return True
    need = max(4, -(-len(a) * 3 // 5))
    if len(a) >= need and _longest_common_run(q, a) >= need:
        return True
    answer_stems = set(content_stems(answer))
    question_stems = set(content_stems(question))
    held = sum(1 for s in answer_stems if any(same_word(s, t) for t in question_stems))
    return len(answer_stems) >= 4 and held >= ANSWER_SHARE_IN_QUESTION * len(answer_stems)


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
