"""The OpenAI-compatible client against the scripted fake server: retries, backoff, errors, limits."""

from __future__ import annotations

import asyncio

import pytest

from taxolab.llm.client import OpenAIClient, normalise_base_url
from taxolab.llm.errors import EndpointDownError, EndpointError
from taxolab.llm.process import free_port
from taxolab.testing.fake_openai import FakeOpenAIServer


class FlakyServer(FakeOpenAIServer):
    """Answers ``fail_with`` to the first ``failures`` requests, then normally (a server that recovers)."""

    failures: int = 0
    seen: int = 0

    def _track(self, delta: int) -> None:
        super()._track(delta)
        if delta > 0:
            self.seen += 1
            if self.seen > self.failures:
                self.fail_with = None


def test_retries_5xx_with_backoff_then_succeeds() -> None:
    with FlakyServer(fail_with=503) as server:
        server.failures = 2
        client = OpenAIClient(server.url, "fake-teacher", max_retries=3, backoff=0.01)

        async def go() -> str:
            async with client:
                [answer] = await client.chat([{"role": "user", "content": "one two"}])
                return answer.text

        assert asyncio.run(go()) == "two one"
        assert client.stats.retries == 2
        assert client.stats.requests == 1


def test_client_error_fails_at_once_naming_endpoint_and_model() -> None:
    with FakeOpenAIServer(fail_with=400) as server:
        client = OpenAIClient(server.url, "fake-teacher", max_retries=5, backoff=0.01)

        async def go() -> None:
            async with client:
                await client.chat([{"role": "user", "content": "x"}])

        with pytest.raises(EndpointError) as info:
            asyncio.run(go())
        assert info.value.status == 400
        assert server.url in str(info.value) and "fake-teacher" in str(info.value)
        assert "scripted failure 400" in str(info.value)
        assert client.stats.retries == 0 and len(server.requests) == 1


def test_unreachable_server_gives_up_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = OpenAIClient(url, "m", max_retries=2, backoff=0.01)

    async def go() -> None:
        async with client:
            await client.complete("hello")

    with pytest.raises(EndpointDownError, match=r"connection refused.* after 3 tries") as info:
        asyncio.run(go())
    assert url in str(info.value)


def test_timeout_counts_as_transient_and_is_reported() -> None:
    with FakeOpenAIServer(latency=1.0) as server:
        client = OpenAIClient(server.url, "fake-teacher", timeout=0.2, max_retries=1, backoff=0.01)

        async def go() -> None:
            async with client:
                await client.chat([{"role": "user", "content": "x"}])

        with pytest.raises(EndpointDownError):
            asyncio.run(go())
        assert client.stats.retries == 1


def test_concurrency_is_bounded_and_fills_the_slots() -> None:
    with FakeOpenAIServer(latency=0.1) as server:
        client = OpenAIClient(server.url, max_concurrency=3)

        async def go() -> list[str]:
            async with client:
                tasks = [client.chat([{"role": "user", "content": f"q {i}"}]) for i in range(9)]
                return [answers[0].text for answers in await asyncio.gather(*tasks)]

        texts = asyncio.run(go())
        assert texts == [f"{i} q" for i in range(9)]
        assert server.max_in_flight == 3
        assert client.model == "fake-teacher"  # learned from /v1/models


def test_streaming_yields_deltas() -> None:
    with FakeOpenAIServer() as server:

        async def go() -> list[str]:
            async with OpenAIClient(server.url) as client:
                return [delta async for delta in client.stream_chat([{"role": "user", "content": "a b c"}])]

        deltas = asyncio.run(go())
        assert len(deltas) == 3 and "".join(deltas).split() == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://h:1", "http://h:1/v1"),
        ("http://h:1/v1/", "http://h:1/v1"),
        ("http://h:1/v1/chat/completions", "http://h:1/v1"),
    ],
)
def test_base_url_normalisation(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize("given", ["127.0.0.1:9", "localhost:8000/v1", "ftp://h:1", "http://", " "])
def test_endpoint_url_without_http_scheme_is_one_clear_line(given: str) -> None:
    """QA: `--endpoint-url 127.0.0.1:9` said `cannot reach the server: UnsupportedProtocol(...)`."""
    from taxolab.errors import TaxolabError
    from taxolab.llm.endpoint import probe

    with pytest.raises(TaxolabError, match=r"must start with http:// or https://") as caught:
        probe(given)
    assert "\n" not in str(caught.value) and "UnsupportedProtocol" not in str(caught.value)


def test_streaming_retries_until_the_server_answers() -> None:
    """A server still loading its model answers 503; the stream starts once it is ready."""
    with FlakyServer(fail_with=503) as server:
        server.failures = 2
        client = OpenAIClient(server.url, "fake-teacher", max_retries=3, backoff=0.01)

        async def go() -> str:
            async with client:
                return "".join([d async for d in client.stream_chat([{"role": "user", "content": "x y"}])])

        assert asyncio.run(go()).split() == ["y", "x"]
        assert client.stats.retries == 2 and client.stats.requests == 1


def test_streaming_gives_up_on_a_client_error() -> None:
    with FakeOpenAIServer(fail_with=401) as server:

        async def go() -> None:
            async with OpenAIClient(server.url, "m", max_retries=3, backoff=0.01) as client:
                async for _ in client.stream_chat([{"role": "user", "content": "x"}]):
                    pass

        with pytest.raises(EndpointError, match="HTTP 401"):
            asyncio.run(go())
        assert len(server.requests) == 1
