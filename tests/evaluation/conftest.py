"""Fixtures for evaluation tests: a real tokenizer, tiny random-weight models, scripted servers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from taxolab.config import Config, load_config
from taxolab.testing.fake_openai import FakeOpenAIServer


def build_tiny_model(tokenizer: Any, folder: Path, seed: int) -> Path:
    """A 2-layer random-weight Llama with the real tokenizer's vocabulary, saved as an HF folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.model.embed_tokens.weight.mul_(40)  # wider logits, so the choices really differ
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_models(real_tokenizer: Any, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("tiny_models")
    return [build_tiny_model(real_tokenizer, root / f"tiny-{seed}", seed) for seed in (1, 2, 3)]


@pytest.fixture
def eval_config(tmp_path: Path) -> Callable[..., Config]:
    """A config whose evaluate section takes the given overrides; output and cache stay in tmp_path."""

    def make(**evaluate: Any) -> Config:
        evaluate.setdefault("output_dir", tmp_path / "out")
        evaluate.setdefault("cache_dir", tmp_path / "cache")
        evaluate.setdefault("taxonomy_path", tmp_path / "no-taxonomy")
        return load_config(None, {"evaluate": evaluate})

    return make


@pytest.fixture
def fake_pair() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """Start scripted servers on 127.0.0.1; all are stopped at the end of the test."""
    started: list[FakeOpenAIServer] = []

    def start(responder: Callable[[dict[str, Any]], str], model: str = "fake") -> FakeOpenAIServer:
        server = FakeOpenAIServer(responder, model=model).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def skills_taxonomy(shared_data: Path, tmp_path: Path) -> Path:
    """A git taxonomy: one skill leaf committed on `base`, then changed, and a second leaf added (new)."""
    return make_skills_taxonomy(shared_data, tmp_path, edit_first=True)


def make_skills_taxonomy(shared_data: Path, tmp_path: Path, *, edit_first: bool) -> Path:
    """Two skill leaves: the first committed at tag `base` (edited after when asked), the second new."""
    from taxolab.gitcmd import run_git

    root = tmp_path / "taxonomy"
    sources = {
        "compositional_skills/linguistics/synonyms/qna.yaml": shared_data
        / "taxonomy/compositional_skills/linguistics/synonyms/qna.yaml",
        "compositional_skills/grounded/linguistics/writing/rewriting/qna.yaml": shared_data
        / "taxonomy/compositional_skills/grounded/linguistics/writing/rewriting/qna.yaml",
    }
    first, second = sources
    (root / first).parent.mkdir(parents=True)
    shutil.copy(sources[first], root / first)
    run_git("init", "-q", "-b", "main", cwd=root)
    run_git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".", cwd=root)
    run_git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "base", cwd=root)
    run_git("tag", "base", cwd=root)
    if edit_first:
        with (root / first).open("a") as handle:
            handle.write("\n# edited on the branch\n")
    (root / second).parent.mkdir(parents=True)
    shutil.copy(sources[second], root / second)
    return root


@pytest.fixture
def new_skill_taxonomy(shared_data: Path, tmp_path: Path) -> Path:
    """Like skills_taxonomy, but only the new (grounded) leaf changed: five questions in all."""
    return make_skills_taxonomy(shared_data, tmp_path, edit_first=False)


MCQ_ROWS = [
    {"question": "What is the capital of France?", "choices": ["Paris", "Rome", "Berlin", "Madrid"], "answer": 0},
    {
        "question": "Which planet is known as the red planet?",
        "choices": ["Venus", "Mars", "Jupiter", "Saturn"],
        "answer": 1,
    },
    {"question": "2 + 2 =", "choices": ["3", "5", "4", "22"], "answer": 2},
    {
        "question": "Water boils at sea level at",
        "choices": ["50 C", "70 C", "90 C", "100 degrees Celsius"],
        "answer": 3,
    },
    {"question": "The largest ocean is the", "choices": ["Pacific Ocean", "Atlantic", "Indian", "Arctic"], "answer": 0},
]


@pytest.fixture
def mcq_rows() -> list[dict[str, Any]]:
    """Five general-knowledge multiple-choice rows in the mmlu_branch format (without leaf)."""
    return [dict(row) for row in MCQ_ROWS]


def _brute_force(model: Any, tokenizer: Any, request: Any) -> list[float]:
    """One unpadded forward per choice over context+continuation, full logits: the definition."""
    import torch

    context = tokenizer(request.context)["input_ids"]
    values = []
    for continuation in request.continuations:
        cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([context + cont])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
        values.append(sum(float(logprobs[len(context) - 1 + i, token]) for i, token in enumerate(cont)))
    return values


@pytest.fixture
def brute_force() -> Callable[[Any, Any, Any], list[float]]:
    """Reference log-likelihood of each continuation, computed the slow obvious way."""
    return _brute_force
