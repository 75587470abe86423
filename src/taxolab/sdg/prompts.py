"""Prompt configs: YAML files with a system prompt, introduction, principles, examples,
a generation template (all jinja2, rendered with the row's columns) and start/end tags.
``optional_columns`` lists columns a template only tests with ``is defined``.
``turns`` (optional) is a list of ``{user, assistant}`` example exchanges sent as
earlier chat turns before the real request: few-shot examples in the chat's own
form, which small teachers follow far better than examples inside one message.
``seed_turns`` (optional) sends the leaf's own seed examples as those turns instead
(see :class:`SeedTurns`); ``turns`` remain the fallback.

The columns a prompt reads are found by parsing its templates, so a pipeline
that feeds a prompt a column no earlier block makes fails when it is loaded,
not an hour into a run.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from taxolab.errors import LocatedError, SourceLocation
from taxolab.yamlio import load_yaml

_PARTS = ("introduction", "principles", "examples", "generation")
_KEYS = {"system", *_PARTS, "start_tags", "end_tags", "description", "optional_columns", "turns", "seed_turns"}
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class PromptConfig:
    path: Path
    system: jinja2.Template
    templates: tuple[jinja2.Template, ...]
    start_tags: tuple[str, ...]
    end_tags: tuple[str, ...]
    input_columns: frozenset[str]
    turns: tuple[tuple[str, str], ...] = ()
    seed_turns: SeedTurns | None = None

    def messages(self, row: dict[str, Any]) -> list[dict[str, str]]:
        """The chat messages for one row: system prompt, example turns, then the rendered parts as one user turn.

        With ``seed_turns``, the example turns are the leaf's own seed examples (the row's
        ``seed_pool``), rendered by its templates; the static ``turns`` are the fallback when the
        pool holds too few.
        """
        parts = [template.render(**row).strip() for template in self.templates]
        user = "\n\n".join(part for part in parts if part)
        system = self.system.render(**row).strip()
        messages = [{"role": "system", "content": system}] if system else []
        for asked, answered in self.example_turns(row):
            messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
        return [*messages, {"role": "user", "content": user}]

    def example_turns(self, row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        """The few-shot turns for ``row``: ``seed_turns.count`` seed examples chosen from the leaf's seed pool
        by :func:`pick_seed_turns` (the same ones, in the same order, for every row of a leaf and on a rerun),
        else the static ``turns``.

        One pick per leaf makes every request of the leaf share its prompt up to the row's own text, so a
        server with a prompt cache (llama-server's ``cache_prompt``, vLLM's prefix caching) reads the shared
        part once per slot. Measured with the default teacher on llama-server: prompt tokens evaluated per
        question request fell from ~170 (turns picked per span) to ~25 (bench/bench_teacher_prompts.py).
        """
        spec = self.seed_turns
        pool = [
            e
            for e in row.get("seed_pool") or ()
            if str(e.get("question") or "").strip() and str(e.get("answer") or "").strip()
        ]
        if spec is None or len(pool) < spec.count:
            return self.turns
        picked = pick_seed_turns(pool, spec.count)
        return tuple((spec.user.render(**_flat(e)).strip(), spec.assistant.render(**_flat(e)).strip()) for e in picked)


def pick_seed_turns(pool: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """``count`` seed examples (``{"question", "answer", "context"}``) that look most like the task: the
    teacher is given one document sentence and writes its question, so the best examples answer in one
    sentence of 6+ words (not a yes or no), about 18 words long (a typical document sentence), each from
    another context.

    Ties, and the order within each rank, follow a shuffle seeded by the pool's text, so a leaf always
    gets the same examples. Why not a plain random pick: with the 135M teacher on the chickadee leaf, a
    random pick that drew a 3-sentence, 307-character answer kept 145 question pairs, this rule's pick 170
    (an earlier random pick of three short one-sentence answers: 186); on the zebu leaf 75 (random) and 91
    (this rule). Issue 16, bench/bench_knowledge_recall.py, one run each.
    """
    from taxolab.documents.sentences import sentence_ends

    key = hashlib.sha256(json.dumps([[e.get("question"), e.get("answer")] for e in pool], default=str).encode())
    shuffled = random.Random(key.hexdigest()).sample(pool, len(pool))

    def misfit(example: dict[str, Any]) -> tuple[bool, bool, int]:
        answer = " ".join(str(example.get("answer") or "").split())
        words = len(answer.split())
        yes_no = answer.split(" ", 1)[0].strip(",.!").lower() in {"yes", "no"}  # its question restates the answer
        return (any(True for _ in sentence_ends(answer)) or yes_no, words < 6, abs(words - 18))

    ranked = sorted(shuffled, key=misfit)  # a stable sort: the shuffle breaks ties
    picked: list[dict[str, Any]] = []
    contexts: set[str] = set()
    for example in ranked:  # fitting ones from distinct contexts first, then the best of the rest
        context = " ".join(str(example.get("context") or "").split())
        if len(picked) < count and context not in contexts and not any(misfit(example)[:2]):
            picked.append(example)
            contexts.add(context)
    picked += [e for e in ranked if all(e is not p for p in picked)][: count - len(picked)]
    return picked


@dataclass(frozen=True)
class SeedTurns:
    """``seed_turns: {count, user, assistant}``: the leaf's seed examples as few-shot chat turns.

    Instruction backtranslation (Li et al. 2023) conditions the question writer on real
    (question, answer) pairs; the leaf's own human-written pairs are the best such pairs a run has,
    and they keep a small teacher on the leaf's topic. Measured on the chickadee leaf with the 135M
    teacher: generic examples (Eiffel Tower, koala) made it copy their subjects (137 of 618 questions
    dropped as ``copied_example``); see bench/bench_answer_first.py.
    """

    count: int
    user: jinja2.Template
    assistant: jinja2.Template


def _flat(example: dict[str, Any]) -> dict[str, str]:
    return {key: " ".join(str(value or "").split()) for key, value in example.items()}


def load_prompt(path: Path) -> PromptConfig:
    """Read and check a prompt config; problems are reported as ``path:line: problem``."""
    data = load_yaml(path, "prompt config")
    if not isinstance(data, dict):
        raise LocatedError(SourceLocation(path, 1), "a prompt config is a mapping of system, introduction, ...")
    for key in data:
        if key not in _KEYS:
            raise LocatedError(_where(path, data, key), f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
    if not str(data.get("generation") or "").strip():
        raise LocatedError(SourceLocation(path, 1), "a prompt config needs a `generation` template")
    templates = []
    columns: set[str] = set()
    for key in ("system", *_PARTS):
        source = str(data.get(key) or "")
        try:
            parsed = _ENV.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            line = _line(data, key) + (exc.lineno or 1)
            raise LocatedError(SourceLocation(path, line), f"template error in `{key}`: {exc.message}") from None
        columns |= jinja2.meta.find_undeclared_variables(parsed)
        if key != "system":
            templates.append(_ENV.from_string(source))
    columns -= {str(column) for column in data.get("optional_columns") or ()}
    start_tags = tuple(str(tag) for tag in data.get("start_tags") or ())
    end_tags = tuple(str(tag) for tag in data.get("end_tags") or ())
    if len(end_tags) not in (0, len(start_tags)):
        raise LocatedError(_where(path, data, "end_tags"), "end_tags must be empty or as many as start_tags")
    turns = data.get("turns") or []
    if not isinstance(turns, list) or not all(
        isinstance(turn, dict) and set(turn) == {"user", "assistant"} for turn in turns
    ):
        raise LocatedError(_where(path, data, "turns"), "`turns` is a list of {user: ..., assistant: ...} examples")
    seed_turns = None
    if data.get("seed_turns") is not None:
        spec = data["seed_turns"]
        if not (
            isinstance(spec, dict) and set(spec) == {"count", "user", "assistant"} and isinstance(spec["count"], int)
        ):
            raise LocatedError(
                _where(path, data, "seed_turns"), "`seed_turns` is {count: N, user: TEMPLATE, assistant: TEMPLATE}"
            )
        seed_turns = SeedTurns(
            spec["count"], _ENV.from_string(str(spec["user"])), _ENV.from_string(str(spec["assistant"]))
        )
    return PromptConfig(
        path=path,
        system=_ENV.from_string(str(data.get("system") or "")),
        templates=tuple(templates),
        start_tags=start_tags,
        end_tags=end_tags or tuple("" for _ in start_tags),
        input_columns=frozenset(columns),
        turns=tuple((str(turn["user"]).strip(), str(turn["assistant"]).strip()) for turn in turns),
        seed_turns=seed_turns,
    )


def _line(data: Any, key: str) -> int:
    try:
        return int(data.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def _where(path: Path, data: Any, key: str) -> SourceLocation:
    return SourceLocation(path, _line(data, key))
