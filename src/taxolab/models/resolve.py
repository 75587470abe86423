"""Turn what a user types for a model (``default``, a path, a name from ``model list``) into a path.

Every command that takes ``--model-path`` (and the ``models.*`` config keys)
goes through :func:`resolve_model`, so they all accept the same references.
This is the only place that knows what ``default`` means: callers never test
for it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from taxolab.errors import TaxolabError
from taxolab.models.default import default_gguf_path, default_hf_dir
from taxolab.models.formats import ModelFormat, detect_format, model_name
from taxolab.models.registry import list_models

DEFAULT_REFS = ("default", "default-gguf")
DEFAULT_HF_REFS = ("default-hf",)


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    format: ModelFormat
    name: str


def resolve_model(ref: str, models_dir: Path, *, prefer: Literal["gguf", "hf"] = "gguf") -> ResolvedModel:
    """Resolve ``ref``; for ``default``, ``prefer`` picks the GGUF (serving) or the HF folder (training, scoring).

    ``default-hf`` always means the HF folder, converted on first use.
    """
    ref = ref.strip()
    if ref in DEFAULT_REFS or ref in DEFAULT_HF_REFS:
        use_hf = ref in DEFAULT_HF_REFS or prefer == "hf"
        path = default_hf_dir(prepare=True) if use_hf else default_gguf_path()
        return ResolvedModel(path, "hf" if use_hf else "gguf", model_name(path))
    models_dir = Path(models_dir).expanduser()
    for candidate in (Path(ref).expanduser(), models_dir / ref):
        if candidate.exists():
            fmt = detect_format(candidate)
            if fmt is None:
                raise TaxolabError(
                    f"{candidate}: not a GGUF file, HF model folder (config.json + weights) or LoRA adapter; "
                    "point at one of those, or at a name from `taxolab model list`"
                )
            return ResolvedModel(candidate, fmt, model_name(candidate))
    matches = [m for m in list_models(models_dir) if m.ready and ref in _aliases(m.name)]
    if len(matches) == 1:
        return ResolvedModel(matches[0].path, matches[0].format, model_name(matches[0].path))
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches)
        raise TaxolabError(f"model {ref!r} is ambiguous ({names}): use the full name or a path")
    raise TaxolabError(f"no model {ref!r}: not a path and not in {models_dir} (see `taxolab model list`)")


def is_default(ref: str | None) -> bool:
    """Whether ``ref`` names the packaged default model (``default``, ``default-gguf``, ``default-hf``)."""
    return ref is not None and ref.strip() in DEFAULT_REFS + DEFAULT_HF_REFS


def served_name(ref: str | None) -> str | None:
    """The model name to request at a server someone else runs, for what the user gave as the model.

    A local reference (a default name or an existing path) says nothing about
    what a remote server calls its model, so it gives None (ask the server);
    any other text is taken as the served name.
    """
    if ref is None or is_default(ref) or Path(ref).expanduser().exists():
        return None
    return ref


def tokenizer_folder(ref: str, models_dir: Path) -> Path | None:
    """An HF folder holding the tokenizer of ``ref``, or None when there is none at hand (a plain GGUF).

    For ``default`` it is the converted HF folder, converted on first use.
    """
    resolved = resolve_model(ref, models_dir, prefer="hf")
    return resolved.path if resolved.format == "hf" else None


def _aliases(name: str) -> set[str]:
    """``org/name.Q4_K_M.gguf`` answers to itself, ``org/name.Q4_K_M``, ``name.Q4_K_M.gguf`` and ``name.Q4_K_M``."""
    last = name.rsplit("/", 1)[-1]
    aliases = {name, last}
    for item in list(aliases):
        if item.lower().endswith(".gguf"):
            aliases.add(item[: -len(".gguf")])
    return aliases
