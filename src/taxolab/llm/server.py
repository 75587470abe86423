"""Start a local OpenAI-compatible server for a model file or folder and wait until it answers.

Callers other than ``model serve`` do not start servers themselves: they open
a model reference or URL with :func:`taxolab.llm.opener.open_model`, which
starts (or reuses) a server here and hands out its :class:`Endpoint`.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import datetime
from pathlib import Path

import httpx

from taxolab.config import paths
from taxolab.errors import TaxolabError
from taxolab.llm.backends import LaunchSpec, ServerArgs, choose_backend, launch_spec
from taxolab.llm.endpoint import Endpoint
from taxolab.llm.process import ChildProcess, free_port, spawn
from taxolab.models.formats import detect_format, model_name

_PORT_RETRIES = 3
_KEEP_LOGS = 20


class ServerHandle:
    """A running local server; stop it with :meth:`stop` or by leaving its ``with`` block."""

    def __init__(self, spec: LaunchSpec, process: ChildProcess, host: str, port: int, api_key: str | None) -> None:
        self.backend = spec.backend
        self.model = spec.model_name
        self.parallel = spec.parallel
        self.ctx_size = spec.ctx_size
        self.host = host
        self.port = port
        self.api_key = api_key
        self.process = process
        self.root_url = f"http://{url_host(host)}:{port}"
        self.url = self.root_url + "/v1"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.url, self.model, self.parallel, self.ctx_size, self.api_key)

    def running(self) -> bool:
        return self.process.running()

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``grace`` seconds); idempotent."""
        self.process.stop(grace)

    def wait(self) -> int:
        """Block until the server exits by itself (foreground ``model serve``); returns its exit code."""
        return self.process.popen.wait()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServerHandle({self.backend}, {self.model!r}, {self.url}, pid={self.pid})"


def start_server(
    model_path: Path,
    *,
    backend: str = "auto",
    host: str = "127.0.0.1",
    port: int = 0,
    ctx_size: int = 4096,
    parallel: int = 4,
    threads: int | None = None,
    api_key: str | None = None,
    startup_timeout: float = 180,
    log_path: Path | None = None,
    gpu_layers: int | None = None,
    chat_template: str | None = None,
) -> ServerHandle:
    """Serve ``model_path`` from a child process and return once it answers requests.

    ``ctx_size`` is the context of *each* of the ``parallel`` slots. ``gpu_layers``
    (llama.cpp's ``-ngl``; -1 = all) and ``chat_template`` (a Jinja file or an
    engine's built-in template name; ``auto``/None = the model's own) pass
    through to the engine. ``port=0``
    picks a free port. If the server does not come up, the error carries the
    last lines of its log (kept at ``log_path``, by default under the cache dir).

    The server dies with this process, even on SIGKILL. On Linux that signal is
    tied to the thread that starts the server, so start long-lived servers from
    the main thread (or one that outlives them), not from a short-lived worker.
    """
    model_path = Path(model_path).expanduser()
    fmt = detect_format(model_path)
    if fmt is None:
        raise TaxolabError(f"{model_path}: not a GGUF file, HF model folder or LoRA adapter")
    chosen = choose_backend(backend, fmt, model_path)
    last_error: TaxolabError | None = None
    for _ in range(_PORT_RETRIES if port == 0 else 1):
        actual_port = port or free_port(host)
        args = ServerArgs(
            model_path, fmt, model_name(model_path), host, actual_port, ctx_size, parallel, threads, api_key,
            gpu_layers=gpu_layers, chat_template=chat_template,
        )  # fmt: skip
        spec = launch_spec(chosen, args)
        log = log_path or _default_log_path(spec.backend, spec.model_name)
        process = spawn(spec.argv, log_path=log, env=_env_with(spec.env))
        handle = ServerHandle(spec, process, host, actual_port, api_key)
        try:
            _wait_until_ready(handle, spec.health_path, startup_timeout)
        except _PortTakenError as exc:
            handle.stop(grace=1.0)
            last_error = exc
            continue
        except BaseException:
            handle.stop(grace=3.0)
            raise
        return handle
    assert last_error is not None
    raise last_error


class _PortTakenError(TaxolabError):
    """The server could not bind its port (another process took it first)."""


def _wait_until_ready(handle: ServerHandle, health_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {handle.api_key}"} if handle.api_key else {}
    with httpx.Client(timeout=5.0, trust_env=False, headers=headers) as http:
        while True:
            if not handle.running():
                tail = handle.process.log_tail()
                message = (
                    f"the {handle.backend} server for {handle.model} exited during startup "
                    f"(code {handle.process.popen.returncode}); log {handle.log_path}: {tail}"
                )
                if "address already in use" in tail.lower() or "couldn't bind" in tail.lower():
                    raise _PortTakenError(message)
                raise TaxolabError(message)
            with contextlib.suppress(httpx.HTTPError):
                if http.get(handle.root_url + health_path).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TaxolabError(
                    f"the {handle.backend} server for {handle.model} did not answer within {timeout:.0f} s; "
                    f"log {handle.log_path}: {handle.process.log_tail()}"
                )
            time.sleep(0.2)


def _default_log_path(backend: str, name: str) -> Path:
    folder = paths.cache_dir() / "logs" / "servers"
    folder.mkdir(parents=True, exist_ok=True)
    old = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - _KEEP_LOGS)]:
        stale.unlink(missing_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return folder / f"{backend}-{name}-{stamp}.log"


def _env_with(extra: dict[str, str]) -> dict[str, str] | None:
    if not extra:
        return None
    return {**os.environ, **extra}


def url_host(host: str) -> str:
    """``host`` as written in a URL a client on this machine can open (``0.0.0.0`` -> ``127.0.0.1``, IPv6 bracketed)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
