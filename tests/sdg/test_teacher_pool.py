"""The global teacher cap serves waiting requests oldest batch first."""

from __future__ import annotations

import asyncio

from taxolab.sdg.teacher import PriorityLimiter


def test_waiters_are_woken_by_priority_then_arrival() -> None:
    async def scenario() -> list[str]:
        limiter = PriorityLimiter(1)
        order: list[str] = []
        await limiter.acquire(0)

        async def waiter(name: str, priority: int) -> None:
            await limiter.acquire(priority)
            order.append(name)
            limiter.release()

        tasks = [asyncio.create_task(waiter(n, p)) for n, p in (("late", 5), ("old", 1), ("old2", 1), ("mid", 3))]
        await asyncio.sleep(0)
        limiter.release()
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == ["old", "old2", "mid", "late"]


def test_a_cancelled_waiter_does_not_leak_its_slot() -> None:
    async def scenario() -> bool:
        limiter = PriorityLimiter(1)
        await limiter.acquire()
        waiting = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        limiter.release()
        await asyncio.wait_for(limiter.acquire(), timeout=1)
        return True

    assert asyncio.run(scenario())


def test_slots_default_when_the_server_does_not_say(fake_teacher: object) -> None:
    from taxolab.llm.endpoint import DEFAULT_SLOTS, probe

    assert probe(fake_teacher.url).slots == DEFAULT_SLOTS  # type: ignore[attr-defined]
