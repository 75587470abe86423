"""Helpers shared by the training tests: tiny models and messages data built on the spot."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import torch

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"]


def make_tiny_model(folder: Path, tokenizer_dir: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide Llama (a few MB) that uses the real tokenizer's vocabulary."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(folder))
    for item in Path(tokenizer_dir).iterdir():
        shutil.copy(item, folder / item.name)
    return folder


def conversation(rng: random.Random, turns: int = 1, max_words: int = 30) -> list[dict[str, str]]:
    messages = []
    for _ in range(turns):
        messages.append({"role": "user", "content": _words(rng, max_words // 2)})
        messages.append({"role": "assistant", "content": _words(rng, max_words)})
    return messages


def _words(rng: random.Random, most: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, most)))


def write_messages(path: Path, count: int, seed: int = 0, max_words: int = 30, **extra: Any) -> Path:
    """``count`` rows of random user/assistant conversations (1-2 turns) as messages JSONL."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(count):
            row = {"messages": conversation(rng, rng.randint(1, 2), max_words), "metadata": {}, **extra}
            handle.write(json.dumps(row) + "\n")
    return path
