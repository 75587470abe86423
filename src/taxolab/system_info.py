"""Facts about this machine and install that a bug report or a colleague needs."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any

import psutil

from taxolab import __version__
from taxolab.cpuinfo import first_cpu, native_bf16
from taxolab.llm.binaries import llama_server_binary, llama_server_version


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def collect() -> dict[str, Any]:
    """Versions, CPU/GPU and memory, as a JSON-friendly dict."""
    import torch

    info: dict[str, Any] = {
        "taxolab": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "packages": {
            name: _version(name)
            for name in (
                "torch",
                "transformers",
                "peft",
                "gguf",
                "llama_cpp_python",
                "huggingface_hub",
                "vllm",
                "ray",
                "lm_eval",
            )
        },
        "llama_server": {
            "path": str(llama_server_binary() or ""),
            "version": llama_server_version(),
        },
        "cpu": {
            "model": _cpu_model(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "native_bf16": native_bf16(),
        },
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "accelerator": _accelerator(torch),
    }
    return info


def _accelerator(torch: Any) -> dict[str, Any]:
    if torch.cuda.is_available():
        devices = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append({"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1)})
        return {"type": "cuda", "cuda": torch.version.cuda, "devices": devices}
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return {"type": "mps", "devices": [{"name": "Apple GPU"}]}
    return {"type": "cpu", "devices": []}


def _cpu_model() -> str:
    return first_cpu().get("model name") or platform.processor() or platform.machine()
