"""The teacher as blocks see it: one or more OpenAI-compatible endpoints behind one global cap.

The cap on in-flight requests is global (not per endpoint) so ``--concurrency``
means what it says however many endpoints there are; each request goes to the
endpoint with the fewest requests in flight. Waiting requests are served by
priority (the executor passes the batch's age), so the oldest batches finish
and checkpoint first while younger ones keep every slot busy.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from taxolab.llm.client import Completion, OpenAIClient, normalise_base_url


@dataclass(frozen=True)
class TeacherSpec:
    """Everything needed to reach the teacher; plain data so other executors (Ray) can ship it."""

    urls: tuple[str, ...]
    model: str | None
    api_key: str | None = None
    concurrency: int = 4
    timeout: float = 300.0
    max_retries: int = 5


DEFAULT_SLOTS = 8
"""Requests to keep in flight at an endpoint that does not say how many it serves at once."""


def server_slots(url: str, api_key: str | None = None) -> int:
    """How many requests the server runs at once: llama.cpp says so in ``/props``; others get the default."""
    root = normalise_base_url(url)[: -len("/v1")]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(f"{root}/props", headers=headers, timeout=5.0, trust_env=False)
        slots = response.json().get("total_slots") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        slots = None
    return slots if isinstance(slots, int) and slots > 0 else DEFAULT_SLOTS


class TeacherPool:
    def __init__(self, spec: TeacherSpec) -> None:
        self.spec = spec
        self.clients = [
            OpenAIClient(
                url,
                spec.model,
                api_key=spec.api_key,
                max_concurrency=spec.concurrency,
                timeout=spec.timeout,
                max_retries=spec.max_retries,
            )
            for url in spec.urls
        ]
        self._cap = PriorityLimiter(spec.concurrency)

    async def chat(
        self, messages: list[dict[str, Any]], *, n: int = 1, priority: int = 0, **kwargs: Any
    ) -> list[Completion]:
        await self._cap.acquire(priority)
        try:
            return await self.send(messages, n=n, **kwargs)
        finally:
            self._cap.release()

    async def send(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        """One request, once a slot is ours: to the endpoint with the fewest in flight."""
        client = min(self.clients, key=lambda c: c.stats.in_flight)
        return await client.chat(messages, n=n, **kwargs)

    async def check(self) -> str:
        """Fail fast (EndpointDownError) if a teacher is unreachable; returns the model name served."""
        models = [await client.resolve_model() for client in self.clients]
        return models[0]

    @property
    def completion_tokens(self) -> int:
        return sum(client.stats.completion_tokens for client in self.clients)

    @property
    def prompt_tokens(self) -> int:
        return sum(client.stats.prompt_tokens for client in self.clients)

    @property
    def requests(self) -> int:
        return sum(client.stats.requests for client in self.clients)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


class PriorityLimiter:
    """A semaphore whose waiters are woken lowest priority value first (FIFO among equals)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int = 0) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1
