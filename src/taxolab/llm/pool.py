"""Several teacher endpoints behind one client: least-loaded routing and failover.

A fleet of vLLM replicas (or llama.cpp servers) is used as one teacher. Each
request goes to the healthy endpoint with the fewest requests in flight
relative to its slots; an endpoint that stops answering is taken out for
``retry_after`` seconds and then tried again, while the run goes on with the
others. Only when every endpoint has failed does the caller see an
:class:`EndpointDownError` (of the last endpoint's kind: slow, overloaded,
down or refused), which makes a run stop with resumable state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from taxolab.llm.client import ClientStats, Completion, Message, OpenAIClient
from taxolab.llm.endpoint import Endpoint
from taxolab.llm.errors import EndpointDownError, EndpointError

T = TypeVar("T")


@dataclass
class _Member:
    client: OpenAIClient
    slots: int
    pending: int = 0
    down_until: float = 0.0
    failures: int = 0

    @property
    def load(self) -> float:
        return self.pending / max(self.slots, 1)


class EndpointPool:
    """Same calling surface as :class:`OpenAIClient` (``chat``, ``complete``, ``stats``), many endpoints."""

    def __init__(
        self, clients: Sequence[OpenAIClient], *, slots: Sequence[int] | None = None, retry_after: float = 30.0
    ) -> None:
        """``slots`` weighs each endpoint's load (default: each client's own cap on requests in flight)."""
        if not clients:
            raise ValueError("an endpoint pool needs at least one endpoint")
        weights = list(slots) if slots is not None else [client.max_concurrency for client in clients]
        self._members = [_Member(client, weight) for client, weight in zip(clients, weights, strict=True)]
        self.retry_after = retry_after
        self.base_url = ", ".join(client.base_url for client in clients)

    @classmethod
    def from_endpoints(
        cls, endpoints: Sequence[Endpoint], *, max_concurrency: int | None = None, retry_after: float = 30.0
    ) -> EndpointPool:
        """One client per endpoint, each allowed ``max_concurrency`` in flight (default: its slots).

        With several endpoints a failing one gets one retry and is then taken
        out while the others carry on; alone, it keeps its full retry budget.
        """
        many = len(endpoints) > 1
        clients = [
            (endpoint.replace(max_retries=min(endpoint.max_retries, 1)) if many else endpoint).client(
                max_concurrency=max_concurrency
            )
            for endpoint in endpoints
        ]
        return cls(clients, slots=[endpoint.slots for endpoint in endpoints], retry_after=retry_after)

    @classmethod
    def from_urls(
        cls,
        urls: Sequence[str],
        *,
        model: str | None = None,
        api_key: str | None = None,
        max_concurrency: int = 4,
        timeout: float = 300.0,
        max_retries: int = 1,
        retry_after: float = 30.0,
    ) -> EndpointPool:
        """One client per URL; few retries per endpoint because the pool fails over instead."""
        clients = [
            OpenAIClient(
                url,
                model,
                api_key=api_key,
                max_concurrency=max_concurrency,
                timeout=timeout,
                max_retries=max_retries,
            )
            for url in urls
        ]
        return cls(clients, retry_after=retry_after)

    @property
    def max_concurrency(self) -> int:
        return sum(member.client.max_concurrency for member in self._members)

    @property
    def stats(self) -> ClientStats:
        total = ClientStats()
        for member in self._members:
            s = member.client.stats
            total.requests += s.requests
            total.failures += s.failures
            total.retries += s.retries
            total.prompt_tokens += s.prompt_tokens
            total.cached_prompt_tokens += s.cached_prompt_tokens
            total.completion_tokens += s.completion_tokens
            total.in_flight += s.in_flight
            total.busy_seconds = max(total.busy_seconds, s.busy_seconds)
        return total

    def healthy_urls(self) -> list[str]:
        now = time.monotonic()
        return [m.client.base_url for m in self._members if m.down_until <= now]

    async def resolve_model(self) -> str:
        return await self._route(lambda client: client.resolve_model())

    async def chat(self, messages: Sequence[Message], **kwargs: Any) -> list[Completion]:
        return await self._route(lambda client: client.chat(messages, **kwargs))

    async def complete(self, prompt: str, **kwargs: Any) -> list[Completion]:
        return await self._route(lambda client: client.complete(prompt, **kwargs))

    async def aclose(self) -> None:
        await asyncio.gather(*(member.client.aclose() for member in self._members))

    async def __aenter__(self) -> EndpointPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _route(self, call: Callable[[OpenAIClient], Awaitable[T]]) -> T:
        tried: set[int] = set()
        last_error: EndpointDownError | None = None
        while True:
            member = self._pick(tried)
            if member is None:
                assert last_error is not None, "a pool has at least one endpoint"
                raise self._all_failed(last_error)
            tried.add(id(member))
            member.pending += 1
            try:
                result = await call(member.client)
            except EndpointDownError as exc:  # slow, overloaded, down or refused: try another endpoint
                member.failures += 1
                member.down_until = time.monotonic() + self.retry_after
                last_error = exc
                continue
            finally:
                member.pending -= 1
            member.failures = 0
            return result

    def _all_failed(self, last: EndpointDownError) -> EndpointError:
        """Alone, an endpoint's own error as it is; several: the same kind of error, naming all of them."""
        if len(self._members) == 1:
            return last
        return last.again(self.base_url, f"all {len(self._members)} teacher endpoints failed; the last one: {last}")

    def _pick(self, tried: set[int]) -> _Member | None:
        now = time.monotonic()
        candidates = [m for m in self._members if id(m) not in tried and m.down_until <= now]
        if not candidates:
            # Every endpoint is quarantined: give the one that went down first another chance.
            candidates = [m for m in self._members if id(m) not in tried]
            if not candidates:
                return None
            return min(candidates, key=lambda m: m.down_until)
        return min(candidates, key=lambda m: m.load)
