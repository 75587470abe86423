"""What kind of model a path holds: a GGUF file, an HF folder, or a LoRA adapter.

Kept free of heavy imports because servers, the model list and the resolver
all ask this question before deciding what to load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

ModelFormat = Literal["gguf", "hf", "lora"]
FORMAT_LABELS: dict[str, str] = {"gguf": "GGUF", "hf": "HF folder", "lora": "LoRA adapter"}
GGUF_MAGIC = b"GGUF"


def detect_format(path: Path) -> ModelFormat | None:
    """The format of ``path``, or None when it is not a model taxolab can use."""
    path = Path(path)
    if path.is_file():
        return "gguf" if _is_gguf(path) else None
    if not path.is_dir():
        return None
    if (path / "adapter_config.json").is_file():
        return "lora"
    if (path / "config.json").is_file() and _has_weights(path):
        return "hf"
    return None


def model_name(path: Path) -> str:
    """A short name for ``path``: the file name without ``.gguf``, or the folder name."""
    path = Path(path)
    return path.name[: -len(".gguf")] if path.name.lower().endswith(".gguf") else path.name


def _is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _has_weights(folder: Path) -> bool:
    patterns = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")
    return any(next(folder.glob(pattern), None) is not None for pattern in patterns)
