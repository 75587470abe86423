"""Shared fixtures: every test runs with its own config, data and (by default) cache dirs.

The default model's converted HF folder is expensive (~40 s), so slow tests
share the real user cache dir where ``scripts/setup`` prepared it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxolab.testing.fake_openai import FakeOpenAIServer

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXOLAB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TAXOLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TAXOLAB_CONFIG", raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"sample data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def fake_teacher() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def default_hf_model() -> Path:
    """The packaged default model as an HF safetensors folder (converted once, cached)."""
    from taxolab.models.default import default_hf_dir

    return default_hf_dir(prepare=True)


@pytest.fixture(scope="session")
def default_server() -> Iterator[object]:
    """One real llama.cpp server with the packaged default model for the whole session, on 127.0.0.1."""
    from taxolab.llm.server import start_server
    from taxolab.models.default import default_gguf_path

    handle = start_server(default_gguf_path(), ctx_size=8192, parallel=4)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def real_tokenizer() -> Any:
    """The default model's real tokenizer: from its prepared HF folder, else read from the GGUF (~8 s)."""
    from transformers import AutoTokenizer

    from taxolab.models.default import default_gguf_path, default_hf_dir, is_hf_folder_ready

    try:
        folder = default_hf_dir(prepare=False)
    except Exception:
        folder = None
    if folder is not None and is_hf_folder_ready(folder):
        return AutoTokenizer.from_pretrained(folder)
    gguf = default_gguf_path()
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
