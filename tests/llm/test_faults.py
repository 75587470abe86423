"""Each kind of model-server fault (slow, overloaded, down, refused) gets its own one-line message.

Real HTTP against the scripted fake server on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import asyncio

import pytest

from taxolab.llm.client import OpenAIClient
from taxolab.llm.errors import (
    EndpointDownError,
    EndpointError,
    EndpointOverloadedError,
    EndpointRefusedError,
    EndpointSlowError,
)
from taxolab.llm.pool import EndpointPool
from taxolab.llm.process import free_port
from taxolab.testing.fake_openai import FakeOpenAIServer


def ask(client: OpenAIClient | EndpointPool) -> None:
    async def go() -> None:
        async with client:
            await client.chat([{"role": "user", "content": "x"}])

    asyncio.run(go())


def test_a_slow_server_is_called_slow_with_the_setting_to_raise() -> None:
    with FakeOpenAIServer(latency=1.0) as server:
        url = server.url
        client = OpenAIClient(url, "fake-teacher", timeout=0.2, max_retries=1, backoff=0.01)
        with pytest.raises(EndpointSlowError) as info:
            ask(client)
    message = str(info.value)
    assert info.value.kind == "slow"
    assert url in message and "no answer within 0.2 s" in message and "after 2 tries" in message
    assert "client.timeout" in message and "TAXOLAB_CLIENT__TIMEOUT" in message and "--set client.timeout" in message
    assert "fewer requests at once" in message
    assert "ReadTimeout" not in message and "cannot reach" not in message


def test_a_gateway_504_quotes_status_and_message_and_is_retried_a_bounded_number_of_times() -> None:
    with FakeOpenAIServer(fail_with=504) as server:
        client = OpenAIClient(server.url, "fake-teacher", max_retries=2, backoff=0.01)
        with pytest.raises(EndpointOverloadedError) as info:
            ask(client)
        completions = [r for r in server.requests if "messages" in r]
    message = str(info.value)
    assert info.value.status == 504 and info.value.kind == "overloaded"
    assert "HTTP 504: scripted failure 504" in message
    assert "proxy in front of it timed out" in message
    assert "stopped answering" not in message and "cannot reach" not in message
    assert len(completions) == 3  # the first try and two retries, then a clear stop


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_not_retried_and_names_the_api_key(status: int) -> None:
    with FakeOpenAIServer(fail_with=status) as server:
        client = OpenAIClient(server.url, "fake-teacher", max_retries=3, backoff=0.01)
        with pytest.raises(EndpointRefusedError) as info:
            ask(client)
        assert len(server.requests) == 1
    assert f"HTTP {status}" in str(info.value) and "API key" in str(info.value)


def test_nothing_listening_is_called_down() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = OpenAIClient(url, "m", max_retries=1, backoff=0.01)
    with pytest.raises(EndpointDownError) as info:
        ask(client)
    assert type(info.value) is EndpointDownError and info.value.kind == "down"
    assert "connection refused" in str(info.value) and "start the server" in str(info.value)


def test_a_bad_request_is_a_request_fault_not_a_server_fault() -> None:
    with FakeOpenAIServer(fail_with=400) as server:
        client = OpenAIClient(server.url, "fake-teacher", max_retries=3, backoff=0.01)
        with pytest.raises(EndpointError) as info:
            ask(client)
    assert not isinstance(info.value, EndpointDownError) and info.value.kind == "request"


def test_a_pool_of_one_reports_the_endpoint_error_itself() -> None:
    with FakeOpenAIServer(latency=1.0) as server:
        pool = EndpointPool([OpenAIClient(server.url, "fake-teacher", timeout=0.2, max_retries=0)])
        with pytest.raises(EndpointSlowError) as info:
            ask(pool)
    assert "endpoints" not in str(info.value) and "no answer within 0.2 s" in str(info.value)


def test_a_pool_of_several_keeps_the_kind_and_names_them_all() -> None:
    with FakeOpenAIServer(fail_with=503) as one, FakeOpenAIServer(fail_with=503) as two:
        urls = [one.url, two.url]
        clients = [OpenAIClient(url, "fake-teacher", max_retries=0) for url in urls]
        with pytest.raises(EndpointOverloadedError) as info:
            ask(EndpointPool(clients))
    message = str(info.value)
    assert "all 2 teacher endpoints failed" in message and all(url in message for url in urls)
    assert "HTTP 503" in message


def test_chat_streaming_gets_the_same_words() -> None:
    with FakeOpenAIServer(latency=1.0) as server:
        client = OpenAIClient(server.url, "fake-teacher", timeout=0.2, max_retries=0)

        async def go() -> None:
            async with client:
                async for _ in client.stream_chat([{"role": "user", "content": "x"}]):
                    pass

        with pytest.raises(EndpointSlowError, match=r"no answer within 0\.2 s \(client\.timeout\) after 1 try"):
            asyncio.run(go())
