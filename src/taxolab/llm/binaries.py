"""Find the llama.cpp tools that ``scripts/setup`` builds and links into the venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def _venv_bin() -> Path:
    return Path(sys.executable).parent


def llama_server_binary() -> Path | None:
    """``$TAXOLAB_LLAMA_SERVER``, else the venv's ``llama-server``, else one on PATH."""
    return _find_tool("llama-server", "TAXOLAB_LLAMA_SERVER")


def llama_quantize_binary() -> Path | None:
    return _find_tool("llama-quantize", "TAXOLAB_LLAMA_QUANTIZE")


def llama_cpp_source_dir() -> Path | None:
    """The vendored llama.cpp source tree (holds ``convert_hf_to_gguf.py``)."""
    env = os.environ.get("TAXOLAB_LLAMA_CPP_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(sys.prefix) / "share" / "taxolab" / "llama.cpp")
    for candidate in candidates:
        if (candidate / "convert_hf_to_gguf.py").exists():
            return candidate
    return None


def llama_server_version() -> str | None:
    """``llama-server --version`` first line (the llama.cpp build), or None when not installed."""
    binary = llama_server_binary()
    if binary is None:
        return None
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("version"):
            return line.split(":", 1)[-1].strip()
    return None


def _find_tool(name: str, env_var: str) -> Path | None:
    env = os.environ.get(env_var)
    if env:
        return Path(env)
    local = _venv_bin() / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None
