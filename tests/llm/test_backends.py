"""Which engine serves which model, and the command lines that start them (no process started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.errors import TaxolabError
from taxolab.llm import backends
from taxolab.llm.backends import ServerArgs, choose_backend, launch_spec
from taxolab.openmp_wait import WAIT_SETTINGS


def args(fmt: str = "gguf", **extra: object) -> ServerArgs:
    base: dict[str, object] = {
        "model_path": Path("/m/model.gguf"), "model_format": fmt, "model_name": "model", "host": "127.0.0.1",
        "port": 8123, "ctx_size": 2048, "parallel": 4,
    }  # fmt: skip
    base.update(extra)
    return ServerArgs(**base)  # type: ignore[arg-type]


def test_gguf_goes_to_llama_server_with_one_full_context_per_slot() -> None:
    assert choose_backend("auto", "gguf", Path("m.gguf")) == "llama-cpp"
    spec = launch_spec("llama-cpp", args(api_key="k", threads=2))
    argv = spec.argv
    assert argv[argv.index("--parallel") + 1] == "4"
    assert argv[argv.index("--ctx-size") + 1] == str(2048 * 4)
    assert argv[argv.index("--kv-unified-per-slot") + 1] == "2048"
    assert argv[argv.index("--alias") + 1] == "model" and argv[argv.index("--api-key") + 1] == "k"
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and spec.parallel == 4 and spec.health_path == "/health"


@pytest.mark.parametrize("backend", ["llama-cpp", "llama-cpp-python"])
@pytest.mark.parametrize("load", [0.2, 1.9])
def test_workers_spin_a_bounded_time_whatever_the_load(
    monkeypatch: pytest.MonkeyPatch, backend: str, load: float
) -> None:
    """Never ``OMP_WAIT_POLICY=ACTIVE``: its workers spin forever, so an idle server would burn a core (issue 21)."""
    for name in WAIT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("os.getloadavg", lambda: (load, load, load))
    env = launch_spec(backend, args()).env
    assert "OMP_WAIT_POLICY" not in env
    assert env["GOMP_SPINCOUNT"] == str(backends.SERVER_WAIT.spin_count) and int(env["GOMP_SPINCOUNT"]) > 0
    assert env["KMP_BLOCKTIME"] == str(backends.SERVER_WAIT.block_time_ms)


@pytest.mark.parametrize("name", ["OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME"])
def test_a_users_wait_setting_wins_and_taxolab_adds_none(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    for other in WAIT_SETTINGS:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, "PASSIVE" if name == "OMP_WAIT_POLICY" else "0")
    env = launch_spec("llama-cpp", args()).env
    assert not set(env) & set(WAIT_SETTINGS)  # the server inherits the user's setting as it is


def test_llama_cpp_python_reports_one_slot() -> None:
    spec = launch_spec("llama-cpp-python", args())
    assert spec.parallel == 1 and "taxolab.llm.llama_cpp_python_main" in spec.argv
    assert spec.argv[spec.argv.index("--n_ctx") + 1] == "2048"


def test_vllm_command_line() -> None:
    spec = launch_spec("vllm", args("hf", model_path=Path("/m/folder")))
    assert "vllm.entrypoints.openai.api_server" in spec.argv
    assert spec.argv[spec.argv.index("--max-num-seqs") + 1] == "4"
    assert spec.argv[spec.argv.index("--served-model-name") + 1] == "model"


def test_hf_folder_without_vllm_or_gpu_says_how_to_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_has_module", lambda name: name != "vllm")
    with pytest.raises(TaxolabError, match="taxolab model convert --model-path /m/folder"):
        choose_backend("auto", "hf", Path("/m/folder"))
    # vLLM installed, but no GPU here: still the conversion hint (a GPU cannot be faked into existence)
    monkeypatch.setattr(backends, "_has_module", lambda name: True)
    monkeypatch.setattr(backends, "_has_gpu", lambda: False)
    with pytest.raises(TaxolabError, match="no GPU is present"):
        choose_backend("auto", "hf", Path("/m/folder"))
    assert choose_backend("vllm", "hf", Path("/m/folder")) == "vllm"
    monkeypatch.setattr(backends, "_has_gpu", lambda: True)
    assert choose_backend("auto", "hf", Path("/m/folder")) == "vllm"


@pytest.mark.parametrize(
    ("requested", "fmt", "message"),
    [
        ("auto", "lora", "LoRA adapter"),
        ("vllm", "gguf", "serve it with --backend llama-cpp"),
        ("llama-cpp", "hf", "llama.cpp serves GGUF files"),
        ("tgi", "gguf", "unknown backend"),
    ],
)
def test_mismatches_are_explained(requested: str, fmt: str, message: str) -> None:
    with pytest.raises(TaxolabError, match=message):
        choose_backend(requested, fmt, Path("/m/x"))  # type: ignore[arg-type]


def test_repack_guard_follows_the_cpu_and_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    backends.repack_safe.cache_clear()
    monkeypatch.setenv("TAXOLAB_LLAMA_REPACK", "1")
    assert backends.repack_safe() is True
    assert "--no-repack" not in launch_spec("llama-cpp", args()).argv
    backends.repack_safe.cache_clear()
    monkeypatch.setenv("TAXOLAB_LLAMA_REPACK", "0")
    assert "--no-repack" in launch_spec("llama-cpp", args()).argv
    assert launch_spec("llama-cpp-python", args()).env["TAXOLAB_LLAMA_NO_EXTRA_BUFTS"] == "1"
    backends.repack_safe.cache_clear()
