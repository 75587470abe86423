"""A scripted OpenAI-compatible server on 127.0.0.1 for exact, fast, offline tests.

It speaks the same HTTP as llama.cpp or vLLM (``/v1/models``,
``/v1/chat/completions``, ``/v1/completions``, streaming), so the code under
test cannot tell it from a real teacher. A *responder* decides each answer
from the request; a fixed latency models a slow teacher; ``fail_with`` makes
it answer errors, and ``stop()`` makes it vanish like a crashed server.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Responder = Callable[[dict[str, Any]], str]


def echo_responder(request: dict[str, Any]) -> str:
    """Answer with the last user message (or the prompt) reversed by words; deterministic."""
    text = str(request["messages"][-1].get("content", "") if "messages" in request else request.get("prompt", ""))
    return " ".join(reversed(text.split()))


@dataclass
class FakeOpenAIServer:
    """Run with ``with FakeOpenAIServer(responder) as server: server.url``."""

    responder: Responder = echo_responder
    latency: float = 0.0
    model: str = "fake-teacher"
    fail_with: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    max_in_flight: int = 0
    stopped: bool = False
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    """Port on 127.0.0.1 to listen on; 0 picks a free one (read it back from :attr:`url`)."""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self) -> FakeOpenAIServer:
        self.stopped = False
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Vanish like a crashed server: refuse new connections and drop kept-alive ones unanswered."""
        self.stopped = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta
            self.max_in_flight = max(self.max_in_flight, self._in_flight)


def _make_handler(fake: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _dead(self) -> bool:
            if fake.stopped:
                self.close_connection = True
            return fake.stopped

        def do_GET(self) -> None:
            if self._dead():
                return
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
            elif self.path in ("/health", "/v1/health"):
                self._json(200, {"status": "ok"})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if self._dead():
                return
            fake._track(+1)
            try:
                with fake._lock:
                    fake.requests.append(request)
                if fake.latency:
                    time.sleep(fake.latency)
                if self._dead():
                    return
                if fake.fail_with is not None:
                    self._json(fake.fail_with, {"error": {"message": f"scripted failure {fake.fail_with}"}})
                    return
                chat = self.path.endswith("/chat/completions")
                if not chat and not self.path.endswith("/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                n = int(request.get("n") or 1)
                texts = [fake.responder(_choice(request, index)) for index in range(n)]
                if request.get("stream"):
                    self._stream(texts[0])
                    return
                self._json(200, _response(fake.model, request, texts, chat))
            finally:
                fake._track(-1)

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for word in text.split(" "):
                chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _choice(request: dict[str, Any], index: int) -> dict[str, Any]:
    """What the responder sees for choice ``index`` of an ``n`` > 1 request: the request with ``choice`` set
    and, when seeded, ``seed + index`` (a sampling server draws each choice with its own random state, so
    choices differ; a responder that reads the seed answers each differently, and the same on a rerun)."""
    if index == 0:
        return request
    seeded = {"seed": int(request["seed"]) + index} if request.get("seed") is not None else {}
    return {**request, **seeded, "choice": index}


def _response(model: str, request: dict[str, Any], texts: list[str], chat: bool) -> dict[str, Any]:
    prompt_text = json.dumps(request.get("messages") or request.get("prompt") or "")
    choices = []
    for index, text in enumerate(texts):
        if chat:
            choices.append({"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"})
        else:
            choices.append({"index": index, "text": text, "finish_reason": "stop"})
    return {
        "id": "fake",
        "object": "chat.completion" if chat else "text_completion",
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": len(prompt_text.split()),
            "completion_tokens": sum(len(t.split()) for t in texts),
        },
    }


MODES = ("echo", "fixed", "fail")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m taxolab.testing.fake_openai``: serve the fake on 127.0.0.1 until interrupted.

    Prints ``<url>`` (``http://127.0.0.1:PORT/v1``) on stdout once it listens and, with
    ``--port-file``, writes the port number there (atomically), so a script or a test
    case can start it in the background and wait for the file. ``--mode echo``
    answers the last message reversed by words, ``fixed`` answers ``--reply``,
    ``fail`` answers every request with HTTP ``--status``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m taxolab.testing.fake_openai",
        description="A scripted OpenAI-compatible server on 127.0.0.1 for offline tests.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, a free one)")
    parser.add_argument("--port-file", type=Path, help="write the chosen port to this file once listening")
    parser.add_argument("--mode", choices=MODES, default="echo", help="how to answer (default: echo)")
    parser.add_argument("--reply", default="OK", help="the answer in --mode fixed (default: OK)")
    parser.add_argument("--status", type=int, default=500, help="HTTP status in --mode fail (default: 500)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--model", default="fake-teacher", help="model name to report (default: fake-teacher)")
    args = parser.parse_args(argv)
    reply: str = args.reply
    responder: Responder = echo_responder if args.mode != "fixed" else (lambda _request: reply)
    server = FakeOpenAIServer(
        responder,
        latency=args.latency,
        model=args.model,
        fail_with=args.status if args.mode == "fail" else None,
        port=args.port,
    )
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", flush=True)
        return 1
    print(server.url, flush=True)
    if args.port_file is not None:
        from taxolab.fsio import write_text

        write_text(args.port_file, f"{server.url.rsplit(':', 1)[1].split('/')[0]}\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
