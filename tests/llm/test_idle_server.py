"""An idle server costs nothing: a llama.cpp server taxolab starts uses no CPU while no request is in flight.

``taxolab run`` keeps the teacher's server from generation to evaluation, so
a server whose OpenMP workers spin after the last request steals a core from
training (issue 21: training ran at 8-10 tokens/s instead of ~150). The
server here is started exactly as ``run`` starts one (``open_model`` with the
config's ``serve`` settings inside a :class:`ServerScope`), serves one real
request, and then its process (every thread) is measured.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
import pytest

from taxolab.config import load_config
from taxolab.llm.client import OpenAIClient
from taxolab.llm.endpoint import Endpoint
from taxolab.llm.opener import ServerScope, open_model
from taxolab.llm.server import start_server
from taxolab.models.default import default_gguf_path

pytestmark = pytest.mark.slow
IDLE_SECONDS = 2.0
IDLE_LIMIT = 0.10  # of one core


def serve_one_request(endpoint: Endpoint) -> int:
    async def go() -> int:
        async with OpenAIClient(endpoint.url, endpoint.model) as client:
            [answer] = await client.chat(
                [{"role": "user", "content": "Name three birds."}], max_tokens=32, temperature=0, ignore_eos=True
            )
            return answer.completion_tokens

    return asyncio.run(go())


def cpu_share(pid: int, seconds: float) -> float:
    """CPU time of process ``pid`` (all its threads, and any children) over ``seconds`` of wall time, in cores."""
    process = psutil.Process(pid)

    def used() -> float:
        total = sum(process.cpu_times()[:2])
        return total + sum(sum(child.cpu_times()[:2]) for child in process.children(recursive=True))

    before, started = used(), time.monotonic()
    time.sleep(seconds)
    return (used() - before) / (time.monotonic() - started)


def server_pid_of(scope: ServerScope) -> int:
    [handle] = scope._servers.values()
    return handle.pid


def test_the_runs_kept_server_is_idle_after_its_last_request(tmp_path: Path) -> None:
    config = load_config(None)
    with ServerScope() as scope:
        with open_model("default", serve=config.serve, models_dir=tmp_path / "models") as endpoint:
            assert serve_one_request(endpoint) == 32
        pid = server_pid_of(scope)  # kept past its block, as run keeps the teacher for evaluation
        share = cpu_share(pid, IDLE_SECONDS)
    assert share < IDLE_LIMIT, f"the idle kept server used {share:.0%} of a core"


def test_a_served_model_is_idle_between_requests() -> None:
    """``taxolab model serve`` and ``model chat`` start their servers with ``start_server`` directly."""
    with start_server(default_gguf_path(), ctx_size=1024, parallel=2) as server:
        assert serve_one_request(server.endpoint) == 32
        share = cpu_share(server.pid, IDLE_SECONDS)
    assert share < IDLE_LIMIT, f"the idle model server used {share:.0%} of a core"
