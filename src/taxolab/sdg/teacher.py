"""The teacher as blocks see it: one or more OpenAI-compatible endpoints behind one global cap.

The cap on in-flight requests is global (not per endpoint) so ``--concurrency``
means what it says however many endpoints there are; each request goes to the
healthy endpoint with the fewest requests in flight (an endpoint that stops
answering is taken out and retried later while the others carry on). Waiting requests are served by
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

from taxolab.llm.client import Completion, normalise_base_url
from taxolab.llm.pool import EndpointPool


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
    """The global priority cap in front of an :class:`EndpointPool` (balancing and failover)."""

    def __init__(self, spec: TeacherSpec) -> None:
        self.spec = spec
        # With several endpoints a failing one is taken out quickly and the others carry on;
        # with one there is nowhere to fail over to, so it gets the full retry budget.
        retries = spec.max_retries if len(spec.urls) == 1 else min(spec.max_retries, 1)
        self.endpoints = EndpointPool.from_urls(
            spec.urls,
            model=spec.model,
            api_key=spec.api_key,
            max_concurrency=spec.concurrency,
            timeout=spec.timeout,
            max_retries=retries,
        )
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
        """One request, once a slot is ours: to the least-loaded healthy endpoint."""
        return await self.endpoints.chat(messages, n=n, **kwargs)

    async def check(self) -> str:
        """Fail fast (EndpointDownError) if no teacher answers; returns the model name served."""
        return await self.endpoints.resolve_model()

    @property
    def completion_tokens(self) -> int:
        return self.endpoints.stats.completion_tokens

    @property
    def prompt_tokens(self) -> int:
        return self.endpoints.stats.prompt_tokens

    @property
    def requests(self) -> int:
        return self.endpoints.stats.requests

    async def aclose(self) -> None:
        await self.endpoints.aclose()


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
