"""Ask a served model many questions at once, and have a judge grade the answers.

Requests go out concurrently up to the endpoint's slots (the client's
semaphore), so a llama.cpp or vLLM server batches them; multi-turn
conversations run their turns in order but conversations run side by side.
Everything is cached on disk first-thing-checked, last-thing-written, so an
interrupted run resumes where it stopped and a second judge regrades
without regenerating.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from taxolab.console import progress
from taxolab.evaluation.cache import DiskCache, cache_key
from taxolab.evaluation.rating import parse_rating
from taxolab.evaluation.serving import LiveEndpoint
from taxolab.llm.client import Message, OpenAIClient
from taxolab.llm.errors import EndpointDownError, EndpointError

T = TypeVar("T")


@dataclass(frozen=True)
class BenchmarkQuestion:
    """One benchmark question: its user turns, answered one after another, each answer kept in the history of
    the next turn (MT-Bench style; a single-turn question has one)."""

    key: str
    turns: tuple[str, ...]
    system: str | None = None
    temperature: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The model's reply to each turn; ``error`` says why there is none (e.g. prompt too long)."""

    turns: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class JudgeRequest:
    key: str
    messages: tuple[tuple[str, str], ...]
    low: float
    high: float


@dataclass(frozen=True)
class Judgment:
    """A judge's verdict: the score it gave, or None when its text held no score on the scale."""

    score: float | None
    text: str
    error: str | None = None


def cached_answers(
    conversations: Sequence[BenchmarkQuestion], *, identity: str, max_tokens: int, cache: DiskCache
) -> tuple[dict[str, Answer], list[BenchmarkQuestion]]:
    """Answers already in the cache, and the conversations still to ask (so no server starts for none)."""
    found: dict[str, Answer] = {}
    missing = []
    for conv in conversations:
        cached = cache.get("answers", _answer_key(identity, conv, max_tokens))
        if cached is None:
            missing.append(conv)
        else:
            found[conv.key] = Answer(tuple(cached["turns"]), cached.get("error"))
    return found, missing


def _answer_key(identity: str, conv: BenchmarkQuestion, max_tokens: int) -> str:
    return cache_key("answer", identity, conv.system, list(conv.turns), conv.temperature, max_tokens)


def answer_all(
    endpoint: LiveEndpoint,
    conversations: Sequence[BenchmarkQuestion],
    *,
    identity: str,
    max_tokens: int,
    cache: DiskCache,
    label: str,
) -> dict[str, Answer]:
    """Each conversation's answers, generated now (and cached); see :func:`cached_answers` for the rest."""

    async def one(client: OpenAIClient, conv: BenchmarkQuestion) -> Answer:
        messages: list[Message] = [{"role": "system", "content": conv.system}] if conv.system else []
        replies: list[str] = []
        error = None
        for turn in conv.turns:
            messages.append({"role": "user", "content": turn})
            try:
                (completion,) = await client.chat(messages, max_tokens=max_tokens, temperature=conv.temperature)
            except EndpointDownError:
                raise
            except EndpointError as exc:
                error = str(exc)
                break
            replies.append(completion.text.strip())
            messages.append({"role": "assistant", "content": completion.text})
        answer = Answer(tuple(replies), error)
        cache.put("answers", _answer_key(identity, conv, max_tokens), {"turns": replies, "error": error})
        return answer

    return _run_all(endpoint, conversations, one, label=label, key=lambda conv: conv.key)


def cached_judgments(
    requests: Sequence[JudgeRequest], *, identity: str, max_tokens: int, cache: DiskCache, format_retry: bool = True
) -> tuple[dict[str, Judgment], list[JudgeRequest]]:
    """Judgments already in the cache (re-parsed, so parser fixes apply), and the requests still to ask."""
    found: dict[str, Judgment] = {}
    missing = []
    for request in requests:
        entry = cache.get("judgments", _judgment_key(identity, request, max_tokens, format_retry))
        if entry is None:
            missing.append(request)
        else:
            found[request.key] = _judgment(entry, request)
    return found, missing


def _judgment_key(identity: str, request: JudgeRequest, max_tokens: int, format_retry: bool) -> str:
    messages = [{"role": role, "content": content} for role, content in request.messages]
    return cache_key("judgment", identity, messages, max_tokens, format_retry)


def _judgment(entry: dict[str, Any], request: JudgeRequest) -> Judgment:
    score = None if entry["error"] else _score(entry["text"], request.low, request.high)
    return Judgment(score, entry["text"], entry["error"])


def judge_all(
    endpoint: LiveEndpoint,
    requests: Sequence[JudgeRequest],
    *,
    identity: str,
    max_tokens: int,
    cache: DiskCache,
    label: str,
    format_retry: bool = True,
) -> dict[str, Judgment]:
    """Each request's judgment (score parsed from the judge's text), asked now and cached.

    With ``format_retry``, a verdict without a readable score gets one short
    follow-up turn asking for the rating line alone: small judges often
    explain well and then forget the format. What is still unreadable after
    that counts as a judge error.
    """

    async def ask(client: OpenAIClient, messages: list[Message], limit: int) -> tuple[str, str | None]:
        try:
            (completion,) = await client.chat(messages, max_tokens=limit, temperature=0.0)
        except EndpointDownError:
            raise
        except EndpointError as exc:
            return "", str(exc)
        return completion.text, None

    async def one(client: OpenAIClient, request: JudgeRequest) -> Judgment:
        messages: list[Message] = [{"role": role, "content": content} for role, content in request.messages]
        text, error = await ask(client, messages, max_tokens)
        if error is None and format_retry and parse_rating(text, request.low, request.high) is None:
            reminder = _FORMAT_REMINDER.format(low=int(request.low), high=int(request.high))
            follow_up = [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": reminder}]
            retry_text, retry_error = await ask(client, follow_up, 24)
            if retry_error is None:
                text = f"{text}\n{RETRY_MARKER}\n{retry_text}"
        entry = {"text": text, "error": error}
        cache.put("judgments", _judgment_key(identity, request, max_tokens, format_retry), entry)
        return _judgment(entry, request)

    return _run_all(endpoint, requests, one, label=label, key=lambda request: request.key)


RETRY_MARKER = "[asked again for the rating line]"
_FORMAT_REMINDER = "Reply with your rating only, as one line: Rating: [[N]] where N is an integer from {low} to {high}."


def _score(text: str, low: float, high: float) -> float | None:
    """After a format retry only the judge's second, short reply counts (its first held no score)."""
    if RETRY_MARKER in text:
        return parse_rating(text.rsplit(RETRY_MARKER, 1)[-1], low, high, short_reply=True)
    return parse_rating(text, low, high)


def _run_all(
    endpoint: LiveEndpoint,
    items: Sequence[T],
    work: Callable[[OpenAIClient, T], Awaitable[Any]],
    *,
    label: str,
    key: Callable[[T], str],
) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with OpenAIClient(
            endpoint.url,
            endpoint.model,
            api_key=endpoint.api_key,
            max_concurrency=endpoint.parallel,
            timeout=endpoint.timeout,
            max_retries=endpoint.max_retries,
        ) as client:
            with progress() as bar:
                task = bar.add_task(label, total=len(items))

                async def tracked(item: T) -> Any:
                    result = await work(client, item)
                    bar.advance(task)
                    return result

                results = await asyncio.gather(*(tracked(item) for item in items))
        return {key(item): result for item, result in zip(items, results, strict=True)}

    if not items:
        return {}
    return asyncio.run(main())
