"""A real llama.cpp server with the packaged default model on 127.0.0.1: chat, streaming, slots, shutdown."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.llm.client import OpenAIClient
from taxolab.llm.endpoint import probe
from taxolab.llm.server import ServerHandle, start_server
from taxolab.models.default import default_gguf_path

pytestmark = pytest.mark.slow
FRANCE = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_chat_completion_and_models(default_server: ServerHandle) -> None:
    listed = httpx.get(default_server.url + "/models", timeout=10).json()
    assert default_server.model in [entry["id"] for entry in listed["data"]]

    async def go() -> tuple[str, str]:
        async with OpenAIClient(default_server.url, default_server.model) as client:
            [chat] = await client.chat(FRANCE, max_tokens=24, temperature=0)
            [completion] = await client.complete("The capital of France is", max_tokens=8, temperature=0)
            assert chat.completion_tokens > 0 and chat.prompt_tokens > 0
            return chat.text, completion.text

    chat, completion = asyncio.run(go())
    # The completion of a plain sentence is stable; the 135M model's chat answer can drift with the
    # server's prompt cache and batch composition, so only check that it answered.
    assert chat.strip()
    assert "Paris" in completion


def test_streaming_arrives_in_pieces(default_server: ServerHandle) -> None:
    async def go() -> list[str]:
        async with OpenAIClient(default_server.url, default_server.model) as client:
            return [delta async for delta in client.stream_chat(FRANCE, max_tokens=24, temperature=0)]

    deltas = asyncio.run(go())
    assert len(deltas) > 3 and "Paris" in "".join(deltas)


def test_concurrent_requests_use_every_slot_at_once(default_server: ServerHandle) -> None:
    """As many requests as slots decode together (continuous batching), none waits for another."""
    busy_seen: list[int] = []
    stop = threading.Event()

    def watch_slots() -> None:
        with httpx.Client(timeout=5) as http:
            while not stop.is_set():
                slots = http.get(default_server.root_url + "/slots").json()
                busy_seen.append(sum(1 for slot in slots if slot.get("is_processing")))
                time.sleep(0.05)

    async def go() -> list[int]:
        async with OpenAIClient(default_server.url, default_server.model, max_concurrency=default_server.parallel) as c:
            prompts = [
                [{"role": "user", "content": f"Count from {i} to {i + 40}."}] for i in range(default_server.parallel)
            ]
            answers = await asyncio.gather(*(c.chat(p, max_tokens=48, ignore_eos=True) for p in prompts))
            return [a[0].completion_tokens for a in answers]

    watcher = threading.Thread(target=watch_slots, daemon=True)
    watcher.start()
    try:
        tokens = asyncio.run(go())
    finally:
        stop.set()
        watcher.join()
    assert default_server.parallel == 4
    assert tokens == [48] * 4
    assert max(busy_seen) == 4, busy_seen


def test_stop_leaves_no_process_even_when_the_block_fails() -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        start_server(default_gguf_path(), ctx_size=512, parallel=1) as server,
    ):
        pid = server.pid
        assert psutil.pid_exists(pid)
        raise RuntimeError("boom")
    assert not server.running()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    server.stop()  # idempotent


def test_server_dies_with_its_parent(tmp_path: Path) -> None:
    """A parent killed with SIGKILL runs no cleanup: the kernel's parent-death signal must end the server."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from taxolab.llm.server import start_server
        from taxolab.models.default import default_gguf_path
        server = start_server(default_gguf_path(), ctx_size=512, parallel=1)
        print(server.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False)
    assert parent.returncode == -9, parent.stderr
    server_pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 15
    while psutil.pid_exists(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = psutil.pid_exists(server_pid) and psutil.Process(server_pid).status() != psutil.STATUS_ZOMBIE
    if alive:
        psutil.Process(server_pid).kill()
    assert not alive, "the server outlived its parent"


def test_startup_failure_shows_the_log_tail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(TaxolabError) as info:
        start_server(broken, ctx_size=512, parallel=1, startup_timeout=60)
    message = str(info.value)
    assert "exited during startup" in message and "broken" in message and "log " in message
    assert "\n" not in message


def test_probe_learns_model_slots_and_context_of_a_running_server(default_server: ServerHandle) -> None:
    endpoint = probe(default_server.root_url)
    assert endpoint.url == default_server.url
    assert endpoint.model == default_server.model
    assert endpoint.slots == default_server.parallel == 4
    assert endpoint.ctx_size == 8192  # per slot, not the shared pool


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed")
def test_llama_cpp_python_backend_serves_the_same_api() -> None:
    with start_server(default_gguf_path(), backend="llama-cpp-python", ctx_size=1024) as server:
        assert server.parallel == 1  # it decodes one request at a time
        answer = httpx.post(
            server.url + "/chat/completions",
            json={"model": server.model, "messages": FRANCE, "max_tokens": 16, "temperature": 0},
            timeout=120,
        ).json()
        assert answer["choices"][0]["message"]["content"]


def test_chat_question_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    """What the README promises on a fresh machine: one question, the packaged model, no network."""
    code = main(["model", "chat", "-q", "What is the capital of France?", "--temperature", "0", "--max-tokens", "32"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Paris" in out


def test_serve_command_runs_until_ctrl_c() -> None:
    """`taxolab model serve` in the foreground: answers, then SIGINT stops it and its server cleanly."""
    from taxolab.llm.process import free_port

    port = free_port()
    command = [sys.executable, "-m", "taxolab.cli.main", "model", "serve", "--port", str(port), "--parallel", "2"]
    # faulthandler: if it hangs, SIGABRT makes the child print every thread's stack into the failure
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/v1" in line and "2 slot(s)" in line, line
        server_pids = [child.pid for child in psutil.Process(proc.pid).children(recursive=True)]
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10).status_code == 200
        proc.send_signal(signal.SIGINT)
        # communicate() drains stderr while it waits: a child blocked on a full pipe cannot look like a hang
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate()
            pytest.fail(f"`model serve` did not stop within 60 s of SIGINT; its stderr:\n{err[-6000:]}")
        assert proc.returncode == 0, err
        assert "server stopped" in err
        time.sleep(0.2)
        assert not [pid for pid in server_pids if psutil.pid_exists(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_chat_repl_driven_through_a_pipe(fake_teacher: object) -> None:
    """The interactive chat, fed by a pipe the way a script (or a person typing) would."""
    url = fake_teacher.url  # type: ignore[attr-defined]
    lines = "one two\n/system Be brief.\n/system\nthree four\n/quit\n"
    done = subprocess.run(
        [sys.executable, "-m", "taxolab.cli.main", "model", "chat", "--endpoint-url", url],
        input=lines, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["two", "one", "four", "three"]
    assert "system prompt: 'Be brief.'" in done.stderr and "/help for commands" in done.stderr


def test_long_chat_stays_within_a_small_context_window() -> None:
    """Turns are dropped before the real server would refuse the request for exceeding its context."""
    from taxolab.llm.chat import ChatSession, conversation_for
    from taxolab.llm.repl import ReplIO, run_repl

    paragraph = "Tell me more about the history of bridges and rivers in old European towns. " * 8
    lines = iter([f"{index}: {paragraph}" for index in range(3)])
    notes: list[str] = []

    def read(_prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    with start_server(default_gguf_path(), ctx_size=512, parallel=1) as server:
        assert probe(server.url).ctx_size == 512  # what `model chat --endpoint-url` sizes the conversation by
        client = OpenAIClient(server.url, server.model)
        session = ChatSession(client, conversation_for(512, 48, None), max_tokens=48, temperature=0)
        answered = run_repl(session, ReplIO(read_line=read, write=lambda _: None, notice=notes.append))
    assert answered == 3, notes
    assert any("dropped the oldest" in note for note in notes)
    assert not any(note.startswith("error") for note in notes)
