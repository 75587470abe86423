"""The one way to reach a model: a model reference or a URL in, an :class:`Endpoint` out.

:func:`open_model` serves a reference (``default``, a path, a name from
``model list``; resolved by :mod:`taxolab.models.resolve` only) from a local
server started for the ``with`` block, or probes a URL someone else runs.
Teacher (:func:`open_models`, several URLs), judge, evaluated models and chat
all open their model here.

A :class:`ServerScope` keeps servers running past the block that started them
so a later block for the same model reuses the server instead of starting
another: ``taxolab run`` keeps the teacher's server for the judge when both
are the same model, and one generation run serves every leaf from one server.
Outside any scope a server lives exactly as long as its ``with`` block.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab.console import stderr
from taxolab.llm.client import normalise_base_url
from taxolab.llm.endpoint import Endpoint, probe
from taxolab.llm.errors import EndpointDownError
from taxolab.llm.server import ServerHandle, start_server

if TYPE_CHECKING:
    from taxolab.llm.settings import ClientSettings, ServeSettings
    from taxolab.models.resolve import ResolvedModel


@dataclass(frozen=True)
class _Key:
    """What makes two servers interchangeable: the same model source, started with the same options."""

    source: Path
    options: tuple[tuple[str, str], ...]


@dataclass(eq=False)
class ServerScope:
    """Keep the servers started inside this ``with`` block running until it ends, for reuse.

    ``keep`` chooses which: None keeps every server started inside; otherwise
    a server is kept when ``keep(source)`` is true for the resolved model path
    it serves (see :func:`model_sources`). When the block ends, a kept server
    that the directly enclosing scope also keeps moves there; the others stop.
    """

    keep: Callable[[Path], bool] | None = None
    _servers: dict[_Key, ServerHandle] = field(default_factory=dict)
    _token: contextvars.Token[tuple[ServerScope, ...]] | None = None

    def keeps(self, source: Path) -> bool:
        """Whether a server for the model at ``source`` stays running until this scope ends."""
        return self.keep is None or self.keep(source)

    def __enter__(self) -> ServerScope:
        self._token = _SCOPES.set((*_SCOPES.get(), self))
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        _SCOPES.reset(self._token)
        outer = _SCOPES.get()
        heir = outer[-1] if outer else None
        servers, self._servers = self._servers, {}
        for key, handle in servers.items():
            if heir is not None and heir.keeps(key.source) and handle.running() and key not in heir._servers:
                heir._servers[key] = handle
            else:
                handle.stop()


_SCOPES: contextvars.ContextVar[tuple[ServerScope, ...]] = contextvars.ContextVar("taxolab_server_scopes", default=())


def model_sources(refs: Iterable[str | None], models_dir: Path) -> Callable[[Path], bool]:
    """A ``keep`` rule for :class:`ServerScope`: servers of the models ``refs`` resolve to (None is skipped)."""
    from taxolab.models.resolve import resolve_model

    wanted = {resolve_model(ref, models_dir).path.resolve() for ref in refs if ref}
    return lambda source: source in wanted


@contextlib.contextmanager
def open_model(
    ref: str | None = None,
    url: str | None = None,
    *,
    serve: ServeSettings,
    models_dir: Path,
    client: ClientSettings | None = None,
    api_key: str | None = None,
    slots: int | None = None,
    parallel: int | None = None,
) -> Iterator[Endpoint]:
    """An endpoint for ``ref`` during the block: the server at ``url``, or a local one started (or reused) now.

    With ``url``, ``ref`` is the model name to request there, unless it is a
    local reference (``default`` or an existing path), in which case the first
    model the server lists is used. The API key for ``url`` is ``api_key``, else
    the environment variable ``client.api_key_env``; local servers need none.
    ``slots`` caps requests in flight (default: the server's slots);
    ``parallel`` overrides ``serve.parallel`` for a server started here.
    ``client`` gives the request timeout and retries.
    """
    limits = _limits(client)
    if url:
        from taxolab.models.resolve import served_name

        key = api_key or _env_key(client)
        yield probe(url, model=served_name(ref), api_key=key, slots=slots, **limits)
        return
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(ref or "default", models_dir)
    options = serve.start_options() if parallel is None else serve.start_options(parallel=parallel)
    with _server(resolved, options) as handle:
        endpoint = handle.endpoint.replace(**limits)
        yield endpoint.replace(slots=slots) if slots else endpoint


@contextlib.contextmanager
def open_models(
    ref: str | None,
    urls: Sequence[str],
    *,
    serve: ServeSettings,
    models_dir: Path,
    client: ClientSettings | None = None,
    api_key: str | None = None,
) -> Iterator[list[Endpoint]]:
    """Endpoints for a fleet (the teacher): one per URL, or one local server for ``ref`` when there are none.

    Every URL is probed; one that does not answer is kept with the model name
    of the others (the failover pool retries it later), but if none answers
    the first error is raised.
    """
    if not urls:
        with open_model(ref, serve=serve, models_dir=models_dir, client=client) as endpoint:
            yield [endpoint]
        return
    from taxolab.models.resolve import served_name

    key = api_key or _env_key(client)
    limits = _limits(client)
    found: dict[str, Endpoint] = {}
    errors: list[EndpointDownError] = []
    for url in urls:
        try:
            found[url] = probe(url, model=served_name(ref), api_key=key, **limits)
        except EndpointDownError as exc:
            errors.append(exc)
    if not found:
        raise errors[0]
    first = next(iter(found.values()))
    for error in errors:
        stderr.print(f"warning: {error}; carrying on with the other endpoints", highlight=False, soft_wrap=True)
    yield [found.get(url) or first.replace(url=normalise_base_url(url)) for url in urls]


def servable_path(resolved: ResolvedModel, backend: str) -> Path:
    """A file or folder the chosen engine loads: HF folders go to vLLM where it runs, else to a cached GGUF."""
    from taxolab.llm.backends import vllm_usable

    if resolved.format != "hf" or backend == "vllm" or (backend == "auto" and vllm_usable()):
        return resolved.path
    from taxolab.models.convert import ensure_gguf

    stderr.print(
        f"{resolved.path} is an HF folder: converting it to GGUF for llama.cpp (once, cached)", highlight=False
    )
    return ensure_gguf(resolved.path)


@contextlib.contextmanager
def _server(resolved: ResolvedModel, options: dict[str, Any]) -> Iterator[ServerHandle]:
    """A running server for ``resolved``: one a scope holds, or a new one (kept by a scope that wants it)."""
    source = resolved.path.resolve()
    served_as = {name: value for name, value in options.items() if name != "startup_timeout"}
    key = _Key(source, tuple(sorted((name, str(value)) for name, value in served_as.items())))
    scopes = _SCOPES.get()
    for scope in reversed(scopes):
        kept = scope._servers.get(key)
        if kept is not None and kept.running():
            yield kept
            return
    handle = start_server(servable_path(resolved, str(options.get("backend", "auto"))), **options)
    owner = next((scope for scope in reversed(scopes) if scope.keeps(source)), None)
    if owner is None:
        with handle:
            yield handle
        return
    owner._servers[key] = handle
    yield handle


def _limits(client: ClientSettings | None) -> dict[str, Any]:
    return {"timeout": client.timeout, "max_retries": client.max_retries} if client else {}


def _env_key(client: ClientSettings | None) -> str | None:
    return os.environ.get(client.api_key_env) if client else None
