"""Padding-free packing: samples in one row stay isolated, and gradients equal padded batches."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from torch.nn import functional
from training_kit import conversation, write_messages

from taxolab.training.api import train
from taxolab.training.dataset import load_tokenizer
from taxolab.training.loss import row_loss_sum
from taxolab.training.metrics import read_metrics
from taxolab.training.packing import (
    IGNORE,
    MIN_SHARED_PREFIX,
    collate_row,
    epoch_batches,
    plan_step,
    shareable_length,
)
from taxolab.training.settings import TrainSettings
from taxolab.training.tokenize import TokenizedSample, tokenize_sample


def load_tiny(model_dir: Path) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, attn_implementation="sdpa")


@pytest.fixture(scope="module")
def samples(chat_tokenizer_dir: Path) -> list[TokenizedSample]:
    tokenizer = load_tokenizer(chat_tokenizer_dir)
    rng = random.Random(7)
    return [tokenize_sample(tokenizer, {"messages": conversation(rng, rng.randint(1, 2))}) for _ in range(6)]


@pytest.fixture(scope="module")
def mixed_openings(chat_tokenizer_dir: Path) -> list[TokenizedSample]:
    """Four chats with the template's default system turn, one with its own, and one pretraining passage."""
    tokenizer = load_tokenizer(chat_tokenizer_dir)
    rng = random.Random(11)
    rows: list[dict[str, object]] = [{"messages": conversation(rng, rng.randint(1, 2))} for _ in range(4)]
    rows.append({"messages": [{"role": "system", "content": "Answer in one word."}, *conversation(rng)]})
    rows.append({"messages": [{"role": "pretraining", "content": "alpha beta gamma delta epsilon zeta eta"}]})
    return [tokenize_sample(tokenizer, row) for row in rows]


def test_packed_row_attention_stays_inside_each_sample(tiny_model_dir: Path, samples: list[TokenizedSample]) -> None:
    """SDPA on CPU: restarting position_ids make transformers build a block-diagonal causal mask."""
    model = load_tiny(tiny_model_dir).eval()
    row = collate_row(samples[:3])
    with torch.no_grad():
        packed = model(input_ids=row.input_ids, position_ids=row.position_ids, use_cache=False).logits[0]
        alone = [model(input_ids=torch.tensor([s.input_ids]), use_cache=False).logits[0] for s in samples[:3]]
    torch.testing.assert_close(packed, torch.cat(alone), atol=1e-5, rtol=1e-5)


def padded_reference_grads(
    model: torch.nn.Module, samples: list[TokenizedSample], pad_id: int
) -> dict[str, torch.Tensor]:
    """What most users do: right-padded batch with an attention mask, mean CE over the trained tokens."""
    longest = max(len(s.input_ids) for s in samples)
    ids = torch.full((len(samples), longest), pad_id)
    mask = torch.zeros((len(samples), longest), dtype=torch.long)
    labels = torch.full((len(samples), longest), IGNORE)
    for i, s in enumerate(samples):
        n = len(s.input_ids)
        ids[i, :n] = torch.tensor(s.input_ids)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor([t if m else IGNORE for t, m in zip(s.input_ids, s.loss_mask, strict=True)])
    model.zero_grad()
    logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
    loss = functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("share_prefix", [False, True])
@pytest.mark.parametrize("max_row", [64, 4096])
def test_packed_gradient_equals_padded_gradient(
    tiny_model_dir: Path, mixed_openings: list[TokenizedSample], max_row: int, share_prefix: bool
) -> None:
    """Packing (and keeping a shared opening once) changes nothing the model learns: the padded gradient."""
    model = load_tiny(tiny_model_dir)
    reference = padded_reference_grads(model, mixed_openings, pad_id=0)
    model.zero_grad()
    total = sum(s.loss_tokens for s in mixed_openings)
    lengths = [len(s.input_ids) for s in mixed_openings]
    (rows,) = plan_step(list(range(len(mixed_openings))), lengths, 1, max_row)
    assert (len(rows) == 1) == (max_row == 4096)  # one long row, or several short ones (accumulation)
    for row_ids in rows:
        row = collate_row([mixed_openings[i] for i in row_ids], share_prefix=share_prefix)
        (row_loss_sum(model, row, torch.device("cpu")) / total).backward()
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, reference[name], atol=1e-6, rtol=1e-4, msg=name)


def test_plan_spreads_every_sample_once_with_equal_row_counts() -> None:
    lengths = [random.Random(i).randint(10, 300) for i in range(37)]
    batch = list(range(37))
    plan = plan_step(batch, lengths, world_size=3, max_row_tokens=400)
    assert sorted(i for rank in plan for row in rank for i in row) == batch
    assert len({len(rank) for rank in plan}) == 1
    for rank in plan:
        for row in rank:
            assert sum(lengths[i] for i in row) <= 400
    loads = [sum(lengths[i] for row in rank for i in row) for rank in plan]
    assert max(loads) - min(loads) <= max(lengths)


def test_empty_row_has_no_targets_and_epochs_reshuffle() -> None:
    assert collate_row([]).loss_tokens == 0
    first, second = epoch_batches(10, 4, seed=1, epoch=0), epoch_batches(10, 4, seed=1, epoch=1)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(i for b in first for i in b) == list(range(10))
    assert first != second
    assert first == epoch_batches(10, 4, seed=1, epoch=0)


def test_a_shared_opening_is_kept_once_per_group(mixed_openings: list[TokenizedSample]) -> None:
    plain = collate_row(mixed_openings)
    shared = collate_row(mixed_openings, share_prefix=True)
    heads = [s.input_ids[: shareable_length(s)] for s in mixed_openings[:4]]
    opening = 0
    while all(len(h) > opening and h[opening] == heads[0][opening] for h in heads):
        opening += 1
    # The four default-system chats share the system turn and "<|im_start|>user\n"; the chat with its
    # own system prompt and the passage (trained from its second token) are laid out whole.
    assert opening >= MIN_SHARED_PREFIX
    assert shareable_length(mixed_openings[5]) == 0
    assert shared.input_ids.shape[1] == plain.input_ids.shape[1] - 3 * opening
    assert shared.loss_tokens == plain.loss_tokens
    assert sorted(shared.targets[shared.targets != IGNORE].tolist()) == sorted(
        plain.targets[plain.targets != IGNORE].tolist()
    )
    assert shared.attention_mask is not None and shared.attention_mask.shape == (1, 1, *shared.input_ids.shape[1:] * 2)
    assert plain.attention_mask is None
    # Nothing to share: the row is the plain layout and the model derives its own mask.
    lone = collate_row(mixed_openings[4:], share_prefix=True)
    assert lone.attention_mask is None and lone.input_ids.shape[1] == sum(len(s.input_ids) for s in mixed_openings[4:])


def test_a_trained_first_token_is_never_shared(chat_tokenizer_dir: Path) -> None:
    """With the user turn trained (``unmask``), the opening ends before the token that predicts it."""
    tokenizer = load_tokenizer(chat_tokenizer_dir)
    rng = random.Random(3)
    rows = [{"messages": conversation(rng), "unmask": True} for _ in range(3)]
    samples = [tokenize_sample(tokenizer, row) for row in rows]
    first_trained = samples[0].loss_mask.index(True, 1)
    assert shareable_length(samples[0]) == first_trained - 1
    shared = collate_row(samples, share_prefix=True)
    assert shared.loss_tokens == collate_row(samples).loss_tokens


def test_training_with_shared_openings_follows_the_same_losses(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Real torch steps through the trainer: the same loss curve, fewer tokens through the model."""
    data = write_messages(tmp_path / "d.jsonl", 24, max_words=12)
    curves = {}
    for shared in (False, True):
        settings = TrainSettings(
            effective_batch_size=8, max_batch_len=256, validation_split=0.0, learning_rate=1e-3,
            device="cpu", precision="fp32", threads=1, shared_prefix=shared,
        )  # fmt: skip
        result = train(data, model_path=tiny_model_dir, output_dir=tmp_path / f"out-{shared}", settings=settings,
                       show_progress=False)  # fmt: skip
        curves[shared] = read_metrics(result.phases[0].metrics_file)
    assert [r["tokens"] for r in curves[True]] == [r["tokens"] for r in curves[False]]
    assert all(r["row_tokens"] == r["tokens"] for r in curves[False])
    assert all(r["row_tokens"] < r["tokens"] for r in curves[True])
    for plain, shared in zip(curves[False], curves[True], strict=True):
        assert shared["loss"] == pytest.approx(plain["loss"], rel=1e-4)
