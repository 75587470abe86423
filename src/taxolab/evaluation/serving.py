"""The models under evaluation: where their weights are, how to serve them, who they are.

A model is named by a reference (``default``, a path, a name in the models
folder) or reached at an endpoint someone else runs. Generative benchmarks
need it behind an OpenAI-compatible server (started here and stopped after
use); log-likelihood benchmarks need its weights. Its *identity* (weights'
sizes and times, or endpoint + served name) keys the answer cache, so a
retrained model never reuses a stale answer.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab.console import stderr

if TYPE_CHECKING:
    from taxolab.llm.settings import ClientSettings, ServeSettings


@dataclass(frozen=True)
class ModelTarget:
    """A model to evaluate or to judge with: a reference, or an endpoint already serving it."""

    ref: str | None
    endpoint_url: str | None = None
    api_key: str | None = None

    @property
    def label(self) -> str:
        return self.ref or self.endpoint_url or "?"


@dataclass(frozen=True)
class LiveEndpoint:
    """A reachable OpenAI-compatible endpoint: base URL, model name to request, request slots."""

    url: str
    model: str | None
    parallel: int
    api_key: str | None = None
    timeout: float = 300.0
    max_retries: int = 5


@dataclass(frozen=True)
class Weights:
    """Where a model's weights are, for loading them with transformers."""

    path: Path
    format: str
    gguf_file: str | None = None


def resolve_weights(ref: str, models_dir: Path) -> Weights:
    """Local weights for ``ref``; the packaged default resolves to its converted HF folder."""
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(ref, models_dir, prefer="hf")
    if resolved.format == "gguf":
        return Weights(resolved.path.parent, "gguf", gguf_file=resolved.path.name)
    return Weights(resolved.path, resolved.format)


def identity(target: ModelTarget, models_dir: Path) -> str:
    """A string that changes whenever the model's weights (or the served model) change."""
    if target.endpoint_url:
        return f"endpoint:{target.endpoint_url}|{target.ref or ''}"
    assert target.ref is not None
    return path_identity(_servable_source(target.ref, models_dir))


def path_identity(path: Path) -> str:
    """The resolved path plus a hash of its weight files' names, sizes and modification times."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in _WEIGHT_SUFFIXES)
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files)
    return f"{path.resolve()}|{hashlib.sha256(stamp.encode()).hexdigest()[:16]}"


_WEIGHT_SUFFIXES = {".safetensors", ".bin", ".gguf", ".pt"}


@contextlib.contextmanager
def open_endpoint(
    target: ModelTarget,
    serve: ServeSettings,
    models_dir: Path,
    *,
    concurrency: int | None = None,
    client: ClientSettings | None = None,
) -> Iterator[LiveEndpoint]:
    """Yield an endpoint serving ``target``: the given URL, or a local server started now and stopped after."""
    from taxolab.llm.server import model_endpoint

    limits: dict[str, Any] = {"timeout": client.timeout, "max_retries": client.max_retries} if client else {}
    if target.endpoint_url:
        name = None if target.ref in (None, "default") or Path(str(target.ref)).exists() else target.ref
        with model_endpoint(
            endpoint_url=target.endpoint_url, model=name, api_key=target.api_key, parallel=concurrency or serve.parallel
        ) as endpoint:
            yield LiveEndpoint(endpoint.url, endpoint.model, concurrency or endpoint.parallel, target.api_key, **limits)
        return
    assert target.ref is not None
    path = servable_path(target.ref, models_dir, serve.backend)
    with model_endpoint(model_path=path, **serve.start_options()) as endpoint:
        yield LiveEndpoint(endpoint.url, endpoint.model, concurrency or endpoint.parallel, **limits)


def servable_path(ref: str, models_dir: Path, backend: str) -> Path:
    """A file or folder the chosen server can load: GGUF for llama.cpp (HF folders converted once, cached)."""
    source = _servable_source(ref, models_dir)
    if source.suffix == ".gguf" or backend == "vllm":
        return source
    from taxolab.models.convert import ensure_gguf

    stderr.print(f"{source} is an HF folder: converting it to GGUF for llama.cpp (once, cached)", highlight=False)
    return ensure_gguf(source)


def _servable_source(ref: str, models_dir: Path) -> Path:
    from taxolab.models.resolve import resolve_model

    return resolve_model(ref, models_dir, prefer="gguf").path
