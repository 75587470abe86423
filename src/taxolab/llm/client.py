"""Async client for any OpenAI-compatible server (llama.cpp, vLLM, ollama, hosted APIs).

One client per endpoint. Concurrency is bounded by a semaphore sized to the
server's slots so callers can fire requests freely and the server stays busy
without queueing past what it can batch. Transient failures (connection
errors, 429, 5xx, timeouts) are retried with exponential backoff and jitter;
anything else fails at once with the endpoint and model in the message.

Why this client and not the official ``openai`` one (measured 2026-11-30 on
the 2-core project machine, same code apart from this module, five rounds
alternating; the machine was shared, 1-minute load average 4.2-7.2):

- ``bench/bench_sdg_overhead.py`` (full knowledge pipeline + MCQ, 1,280
  requests to an instant fake teacher; engine req/s, higher keeps the teacher
  busier): this client 133-141 req/s; ``openai.AsyncOpenAI`` 3.57 through its
  typed ``chat.completions.create`` 77-107; through its generic ``post``
  returning plain JSON (no typed objects) 95-120. The bare clients alone:
  134-164 vs 91-141 req/s. The openai client spends more CPU per request,
  which on a machine whose cores the teacher and client share is taken from
  the teacher.
- ``bench/bench_teacher_utilisation.py`` (real llama-server, default model,
  4 slots, 59 requests): slot occupancy 0.99 with this client, 0.98 with the
  openai one (``post`` variant; load 7.7 and 12).

So this one stays. Rerun: ``.venv/bin/python bench/bench_sdg_overhead.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from taxolab.errors import TaxolabError
from taxolab.llm.errors import EndpointError, status_fault, transport_fault

Message = dict[str, Any]
RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Completion:
    """One generated choice with its token accounting (usage is split evenly across ``n`` choices)."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class ClientStats:
    """Running totals, read by progress bars (teacher tokens/s) and benchmarks."""

    requests: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    """Prompt tokens the server took from its prompt cache (``usage.prompt_tokens_details.cached_tokens``)."""
    completion_tokens: int = 0
    in_flight: int = 0
    busy_seconds: float = 0.0
    _busy_since: float | None = field(default=None, repr=False)


class OpenAIClient:
    """Talk to one OpenAI-compatible endpoint (``base_url`` ends in ``/v1`` or is the server root)."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        max_concurrency: int = 4,
        timeout: float = 300.0,
        max_retries: int = 5,
        backoff: float = 0.5,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.model = model
        self.api_key = api_key
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self.stats = ClientStats()
        self._semaphore = asyncio.Semaphore(max_concurrency)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=max_concurrency * 2, max_keepalive_connections=max_concurrency * 2),
            trust_env=False,
        )

    def clone(self) -> OpenAIClient:
        """A new client for the same endpoint and settings, with its own connections and slots."""
        return OpenAIClient(
            self.base_url,
            self.model,
            api_key=self.api_key,
            max_concurrency=self.max_concurrency,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
        )

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def resolve_model(self) -> str:
        """The model to request: the configured one, else the first the server lists."""
        if self.model is None:
            models = await self.list_models()
            if not models:
                raise EndpointError(self.base_url, None, "server lists no models")
            self.model = models[0]
        return self.model

    async def list_models(self) -> list[str]:
        data = await self._request("GET", "/models", None)
        return [entry["id"] for entry in data.get("data", [])]

    async def chat(
        self,
        messages: Sequence[Message],
        *,
        n: int = 1,
        max_tokens: int | None = None,
        temperature: float | None = None,
        **extra: Any,
    ) -> list[Completion]:
        """Chat completion; returns ``n`` choices."""
        body = await self._body(messages=list(messages), n=n, max_tokens=max_tokens, temperature=temperature, **extra)
        data = await self._request("POST", "/chat/completions", body)
        return _completions(data, lambda choice: (choice.get("message") or {}).get("content") or "")

    async def complete(
        self,
        prompt: str,
        *,
        n: int = 1,
        max_tokens: int | None = None,
        temperature: float | None = None,
        **extra: Any,
    ) -> list[Completion]:
        """Plain text completion; returns ``n`` choices."""
        body = await self._body(prompt=prompt, n=n, max_tokens=max_tokens, temperature=temperature, **extra)
        data = await self._request("POST", "/completions", body)
        return _completions(data, lambda choice: choice.get("text") or "")

    async def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        **extra: Any,
    ) -> AsyncGenerator[str, None]:
        """Yield content deltas as the server streams them.

        Failures before the first token (connection errors, 429/5xx, such as a
        server still loading its model) are retried like any request; once
        tokens have arrived a failure is final, since the caller has shown them.
        """
        body = await self._body(
            messages=list(messages), max_tokens=max_tokens, temperature=temperature, stream=True, **extra
        )
        attempt = 0
        async with self._semaphore:
            while True:
                started = False
                try:
                    async with self._http.stream("POST", "/chat/completions", json=body) as response:
                        if response.status_code >= 400:
                            text = (await response.aread()).decode("utf-8", "replace")
                            if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                                self.stats.failures += 1
                                raise self._status_error(response.status_code, text, attempt + 1)
                        else:
                            deltas = _stream_deltas(response)
                            async with contextlib.aclosing(deltas):
                                async for delta in deltas:
                                    started = True
                                    yield delta
                            self.stats.requests += 1
                            return
                except httpx.TransportError as exc:
                    if started or attempt >= self.max_retries:
                        self.stats.failures += 1
                        raise self._transport_error(exc, attempt + 1) from None
                attempt += 1
                self.stats.retries += 1
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))

    async def _body(self, **fields: Any) -> dict[str, Any]:
        body = {key: value for key, value in fields.items() if value is not None}
        if body.get("n") == 1:
            body.pop("n")
        body["model"] = await self.resolve_model()
        return body

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        attempt = 0
        async with self._semaphore:
            self._enter()
            try:
                while True:
                    try:
                        response = await self._http.request(method, path, json=body)
                    except httpx.TransportError as exc:
                        if attempt >= self.max_retries:
                            self.stats.failures += 1
                            raise self._transport_error(exc, attempt + 1) from None
                    else:
                        if response.status_code < 400:
                            self.stats.requests += 1
                            data: dict[str, Any] = response.json()
                            usage = data.get("usage") or {}
                            self.stats.prompt_tokens += int(usage.get("prompt_tokens") or 0)
                            details = usage.get("prompt_tokens_details") or {}
                            self.stats.cached_prompt_tokens += int(details.get("cached_tokens") or 0)
                            self.stats.completion_tokens += int(usage.get("completion_tokens") or 0)
                            return data
                        if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                            self.stats.failures += 1
                            raise self._status_error(response.status_code, response.text, attempt + 1)
                    attempt += 1
                    self.stats.retries += 1
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
            finally:
                self._leave()

    def _status_error(self, status: int, text: str, tries: int) -> EndpointError:
        """The classified error for an HTTP error answer (see :mod:`taxolab.llm.errors`)."""
        return status_fault(self.base_url, self.model, status, text, tries=tries)

    def _transport_error(self, exc: httpx.TransportError, tries: int) -> EndpointError:
        """The classified error for a request that got no answer: slow, or down."""
        return transport_fault(self.base_url, self.model, exc, tries=tries, timeout=self.timeout)

    def _enter(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        if self.stats.in_flight == 0:
            self.stats._busy_since = loop_time
        self.stats.in_flight += 1

    def _leave(self) -> None:
        self.stats.in_flight -= 1
        if self.stats.in_flight == 0 and self.stats._busy_since is not None:
            self.stats.busy_seconds += asyncio.get_running_loop().time() - self.stats._busy_since
            self.stats._busy_since = None


async def _stream_deltas(response: httpx.Response) -> AsyncGenerator[str, None]:
    """Content deltas from a server-sent-events chat stream, up to ``[DONE]``."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        chunk = json.loads(payload)
        for choice in chunk.get("choices", []):
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                yield delta


def check_endpoint_url(url: str) -> str:
    """``url`` stripped, or a one-line :class:`TaxolabError` when it is not an ``http://``/``https://`` URL with a host.

    Every endpoint URL passes here (through :func:`normalise_base_url`) before a
    request, so ``127.0.0.1:9`` is named as a malformed URL instead of a
    transport error from the HTTP library.
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.strip("/"):
        raise TaxolabError(
            f"endpoint URL {url!r}: must start with http:// or https:// and name a host, e.g. http://127.0.0.1:8000/v1"
        )
    return text


def normalise_base_url(url: str) -> str:
    """Accept ``http://host:port``, ``.../v1`` or ``.../v1/``; always return ``.../v1``.

    Raises :class:`TaxolabError` (see :func:`check_endpoint_url`) for a URL without ``http://``/``https://``.
    """
    url = check_endpoint_url(url).rstrip("/")
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")]
    return url if url.endswith("/v1") else url + "/v1"


def _completions(data: dict[str, Any], text_of: Any) -> list[Completion]:
    choices = sorted(data.get("choices", []), key=lambda choice: choice.get("index", 0))
    usage = data.get("usage") or {}
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    texts = [str(text_of(choice)) for choice in choices]
    counts = _choice_tokens(int(usage.get("completion_tokens") or 0), texts, "timings" in data)
    return [
        Completion(
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=prompt_tokens,
            completion_tokens=count,
        )
        for choice, text, count in zip(choices, texts, counts, strict=True)
    ]


def _choice_tokens(total: int, texts: list[str], first_only: bool) -> list[int]:
    """Completion tokens of each choice from the answer's ``usage.completion_tokens``.

    OpenAI and vLLM count every choice in ``usage``: it is split evenly. llama-server (its answers carry
    ``timings``) counts only the first choice when ``n`` > 1 (seen with the installed build: ``n=4`` answered
    ``completion_tokens: 31``, the first choice's length, while another choice ran to its 48-token cap), so
    the others are estimated from their length in characters at the first one's characters per token.
    """
    if not texts:
        return []
    if not first_only or len(texts) == 1:
        return [total // len(texts)] * len(texts)
    per_char = total / max(1, len(texts[0]))
    return [total, *(round(len(text) * per_char) for text in texts[1:])]
