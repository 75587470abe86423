"""Start a local OpenAI-compatible server for a model, or connect to one that already runs.

Other parts (data generation, evaluation, chat) only ever see an
:class:`Endpoint`: a base URL, the model name to request, and how many requests
it can take at once. :func:`model_endpoint` gives them one either way, so every
command accepts ``--endpoint-url`` for a remote teacher and starts (and
finally stops) a local server otherwise.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from taxolab.config import paths
from taxolab.errors import TaxolabError
from taxolab.llm.backends import LaunchSpec, ServerArgs, choose_backend, launch_spec
from taxolab.llm.client import normalise_base_url
from taxolab.llm.errors import EndpointDownError
from taxolab.llm.process import ChildProcess, free_port, spawn
from taxolab.models.formats import detect_format, model_name

_PORT_RETRIES = 3
_KEEP_LOGS = 20


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests: ``url`` ends in ``/v1``; ``parallel`` is how many to keep in flight."""

    url: str
    model: str
    parallel: int = 4
    ctx_size: int | None = None
    api_key: str | None = None


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
        self.root_url = f"http://{_url_host(host)}:{port}"
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
) -> ServerHandle:
    """Serve ``model_path`` from a child process and return once it answers requests.

    ``ctx_size`` is the context of *each* of the ``parallel`` slots. ``port=0``
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
            model_path, fmt, model_name(model_path), host, actual_port, ctx_size, parallel, threads, api_key
        )
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


@contextlib.contextmanager
def model_endpoint(
    model_path: Path | None = None,
    endpoint_url: str | None = None,
    *,
    model: str | None = None,
    api_key: str | None = None,
    **start_kwargs: Any,
) -> Iterator[Endpoint]:
    """An endpoint for the duration of the block: ``endpoint_url`` as is, or a local server for ``model_path``.

    With neither, the packaged default model is served. ``model`` names the
    model to request from an existing endpoint (default: the first it lists).
    """
    if endpoint_url:
        yield connect(endpoint_url, model=model, api_key=api_key, parallel=start_kwargs.get("parallel", 4))
        return
    if model_path is None:
        from taxolab.models.default import default_gguf_path

        model_path = default_gguf_path()
    with start_server(model_path, api_key=api_key, **start_kwargs) as handle:
        yield handle.endpoint


def connect(endpoint_url: str, *, model: str | None = None, api_key: str | None = None, parallel: int = 4) -> Endpoint:
    """Check that ``endpoint_url`` answers ``/models`` and learn its model name and context size."""
    url = normalise_base_url(endpoint_url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(url + "/models", headers=headers, timeout=15.0, trust_env=False)
    except httpx.HTTPError as exc:
        raise EndpointDownError(url, model, f"cannot reach the server: {exc}") from None
    if response.status_code >= 400:
        raise EndpointDownError(url, model, f"HTTP {response.status_code} from /models: {response.text[:200]}")
    listed = response.json().get("data") or []
    if model is None:
        if not listed:
            raise EndpointDownError(url, None, "the server lists no models; pass the model name")
        model = str(listed[0]["id"])
    entry: dict[str, Any] = next((item for item in listed if item.get("id") == model), {})
    ctx_size = _slot_context(url, headers) or _context_of(entry)
    return Endpoint(url, model, parallel, ctx_size, api_key)


def _slot_context(url: str, headers: dict[str, str]) -> int | None:
    """llama-server's per-slot context from ``/props`` (its ``/models`` reports the whole shared pool)."""
    root = url[: -len("/v1")] if url.endswith("/v1") else url
    try:
        response = httpx.get(root + "/props", headers=headers, timeout=5.0, trust_env=False)
        value = response.json().get("default_generation_settings", {}).get("n_ctx")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def _context_of(entry: dict[str, Any]) -> int | None:
    """The context window a ``/models`` entry reports (vLLM: max_model_len; llama.cpp: meta.n_ctx)."""
    for value in (entry.get("max_model_len"), (entry.get("meta") or {}).get("n_ctx")):
        if isinstance(value, int) and value > 0:
            return value
    return None


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


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
