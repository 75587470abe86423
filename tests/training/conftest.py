"""Fixtures for training tests: the default model's real tokenizer, tiny random models, messages data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from training_kit import make_tiny_model


@pytest.fixture(scope="session")
def chat_tokenizer_dir(default_hf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model's tokenizer and chat template, alone in a folder (no weights)."""
    folder = tmp_path_factory.mktemp("tokenizer")
    for item in default_hf_model.iterdir():
        if item.name.startswith(("tokenizer", "special_tokens", "chat_template", "vocab", "merges")):
            shutil.copy(item, folder / item.name)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(chat_tokenizer_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight Llama with the real tokenizer, saved as an HF folder."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", chat_tokenizer_dir)


@pytest.fixture(autouse=True)
def training_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tokenisation caches go to the test's own folder (session fixtures above already resolved)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TAXOLAB_CACHE_DIR", str(cache))
    return cache
