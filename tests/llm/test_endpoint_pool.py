"""Several teacher endpoints used as one: balancing by load, failover, all-down error.

The endpoints are scripted fake OpenAI-compatible servers on 127.0.0.1 (a
fleet of real vLLM replicas cannot run here).
"""

from __future__ import annotations

import asyncio

import pytest

from taxolab.llm.errors import EndpointDownError
from taxolab.llm.pool import EndpointPool
from taxolab.testing.fake_openai import FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "one two three"}]


def test_requests_are_spread_by_load() -> None:
    with FakeOpenAIServer(latency=0.05) as first, FakeOpenAIServer(latency=0.05) as second:

        async def run() -> None:
            async with EndpointPool.from_urls([first.url, second.url], max_concurrency=2) as pool:
                results = await asyncio.gather(*(pool.chat(MESSAGES) for _ in range(16)))
                assert all(r[0].text == "three two one" for r in results)
                assert pool.max_concurrency == 4

        asyncio.run(run())
        assert len(first.requests) >= 4 and len(second.requests) >= 4
        assert len(first.requests) + len(second.requests) == 16


def test_run_completes_on_the_other_endpoint_when_one_stops_answering() -> None:
    with FakeOpenAIServer(latency=0.01) as healthy:
        dying = FakeOpenAIServer(latency=0.01).start()
        dying_url = dying.url
        dying.stop()

        async def run() -> list[str]:
            async with EndpointPool.from_urls([dying_url, healthy.url], max_concurrency=2, retry_after=60) as pool:
                results = await asyncio.gather(*(pool.chat(MESSAGES) for _ in range(10)))
                assert pool.healthy_urls() == [healthy.url.rstrip("/")]
                return [r[0].text for r in results]

        texts = asyncio.run(run())
        assert texts == ["three two one"] * 10
        assert len(healthy.requests) == 10


def test_all_endpoints_down_is_one_clear_error() -> None:
    servers = [FakeOpenAIServer().start() for _ in range(2)]
    urls = [s.url for s in servers]
    for server in servers:
        server.stop()

    async def run() -> None:
        async with EndpointPool.from_urls(urls, max_retries=0) as pool:
            await pool.chat(MESSAGES)

    with pytest.raises(EndpointDownError, match="all 2 teacher endpoints failed"):
        asyncio.run(run())


def test_client_errors_are_not_failed_over() -> None:
    with FakeOpenAIServer(fail_with=400) as bad, FakeOpenAIServer() as good:

        async def run() -> None:
            async with EndpointPool.from_urls([bad.url], max_retries=0) as pool:
                await pool.chat(MESSAGES)

        with pytest.raises(Exception, match="HTTP 400"):
            asyncio.run(run())
        assert good.requests == []


def test_load_is_weighed_by_each_endpoint_s_slots() -> None:
    """A 3-slot server takes about three times the requests of a 1-slot one (least loaded for its slots)."""
    from taxolab.llm.endpoint import Endpoint

    with FakeOpenAIServer(latency=0.05) as small, FakeOpenAIServer(latency=0.05) as big:
        endpoints = [Endpoint(small.url, "fake-teacher", slots=1), Endpoint(big.url, "fake-teacher", slots=3)]

        async def run() -> None:
            async with EndpointPool.from_endpoints(endpoints, max_concurrency=4) as pool:
                await asyncio.gather(*(pool.chat(MESSAGES) for _ in range(16)))

        asyncio.run(run())
        assert len(small.requests) + len(big.requests) == 16
        assert len(big.requests) >= 2 * len(small.requests) > 0
