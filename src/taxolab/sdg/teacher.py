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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taxolab.llm.client import Completion
from taxolab.llm.endpoint import Endpoint
from taxolab.llm.pool import EndpointPool


@dataclass(frozen=True)
class TeacherSpec:
    """The teacher: its endpoints and the global cap on requests in flight; plain data, so Ray can ship it."""

    endpoints: tuple[Endpoint, ...]
    concurrency: int

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(endpoint.url for endpoint in self.endpoints)

    @property
    def model(self) -> str:
        return self.endpoints[0].model

    @classmethod
    def of(cls, endpoints: Sequence[Endpoint], concurrency: int | None = None) -> TeacherSpec:
        """The teacher for ``endpoints``; ``concurrency`` defaults to the sum of their slots."""
        return cls(tuple(endpoints), concurrency or sum(endpoint.slots for endpoint in endpoints))


class TeacherPool:
    """The global priority cap in front of an :class:`EndpointPool` (balancing and failover)."""

    def __init__(self, spec: TeacherSpec) -> None:
        self.spec = spec
        # Every endpoint may take the whole cap (the cap is what limits); the pool
        # still sends each request to the endpoint least loaded for its slots.
        self.endpoints = EndpointPool.from_endpoints(spec.endpoints, max_concurrency=spec.concurrency)
        self._cap = PriorityLimiter(spec.concurrency)

    @property
    def max_choices(self) -> int:
        """The most choices (``n``) one request may ask for: the fewest slots of any endpoint.

        llama-server answers ``n`` > 1 by decoding the choices on that many slots after reading the prompt
        once, and refuses more than it has slots (HTTP 400, "Field 'n': Value must be between 1 <= value <= 4").
        """
        return max(1, min(endpoint.slots for endpoint in self.spec.endpoints))

    async def chat(
        self, messages: list[dict[str, Any]], *, n: int = 1, priority: int = 0, **kwargs: Any
    ) -> list[Completion]:
        """``n`` choices for ``messages``: one request, or several of at most :attr:`max_choices` choices each.

        A ``seed`` in ``kwargs`` seeds the first request; the k-th further one gets ``seed + k * max_choices``,
        so split requests do not repeat each other's choices even where a server draws choice i with
        ``seed + i`` (as the fake teacher does).
        """
        if n <= self.max_choices:
            return await self._chat(messages, n=n, priority=priority, **kwargs)
        seed = kwargs.pop("seed", None)
        sizes = [min(self.max_choices, n - start) for start in range(0, n, self.max_choices)]
        answers = await asyncio.gather(
            *(
                self._chat(
                    messages,
                    n=size,
                    priority=priority,
                    **kwargs,
                    **({} if seed is None else {"seed": seed + k * self.max_choices}),
                )
                for k, size in enumerate(sizes)
            )
        )
        return [completion for answer in answers for completion in answer]

    async def _chat(
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
