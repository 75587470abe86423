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
from typing import TYPE_CHECKING

from taxolab.llm.endpoint import Endpoint

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


LiveEndpoint = Endpoint
"""The served model as benchmarks see it: the one endpoint type of :mod:`taxolab.llm.endpoint`."""


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
    from taxolab.models.resolve import resolve_model

    return path_identity(resolve_model(target.ref, models_dir, prefer="gguf").path)


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
) -> Iterator[Endpoint]:
    """Yield an endpoint serving ``target``: its URL, or a local server (started now, or one a scope keeps).

    ``concurrency`` caps requests in flight (default: the server's slots).
    """
    from taxolab.llm.opener import open_model

    with open_model(
        target.ref,
        target.endpoint_url,
        serve=serve,
        models_dir=models_dir,
        client=client,
        api_key=target.api_key,
        slots=concurrency,
    ) as endpoint:
        yield endpoint
