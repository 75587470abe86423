"""Padding-free packing: which samples go into which forward pass, on which rank.

An optimizer step takes ``effective_batch_size`` samples. They are spread over
the ranks so each gets about the same number of tokens, then packed on each
rank into rows of at most ``max_row_tokens`` (first-fit decreasing). A row is
one forward pass: samples concatenated, ``position_ids`` restarting at 0 for
each, so attention stays inside each sample. Every rank runs the same number of
rows (FSDP's collectives need that): short ranks get empty rows, which run a
one-token forward with no loss.

With ``share_prefix`` (SDPA attention), samples of a row that open with the same
untrained tokens (the chat template's system turn, "<|im_start|>system\nYou are
a helpful assistant...", is 17 of a knowledge sample's ~95 tokens) keep that
opening once: each sample's remaining tokens continue its positions and attend
to the one copy through an explicit attention mask. The loss and gradients are
those of the samples laid out whole (the shared tokens predict nothing, and
their activations are the same in every sample); tests/training prove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import takewhile

import torch

from taxolab.training.tokenize import TokenizedSample

IGNORE = -100
MIN_SHARED_PREFIX = 4
"""Fewest leading tokens worth keeping once for several samples (a shorter match is laid out whole)."""


@dataclass(frozen=True)
class PackedRow:
    """One forward pass: ``[1, T]`` tensors; ``targets`` is -100 where nothing is predicted.

    ``attention_mask`` is ``[1, 1, T, T]`` bool (True: the query token at that row may attend to
    the key token at that column) where samples share an opening; None where every sample is laid out
    whole, and the model derives the block-diagonal causal mask from ``position_ids``.
    """

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    targets: torch.Tensor
    attention_mask: torch.Tensor | None = None

    @property
    def loss_tokens(self) -> int:
        return int((self.targets != IGNORE).sum())


def epoch_batches(num_samples: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's sample order (seeded by seed and epoch) cut into optimizer-step batches."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(num_samples, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, num_samples, batch_size)]


def plan_step(batch: list[int], lengths: list[int], world_size: int, max_row_tokens: int) -> list[list[list[int]]]:
    """rank -> rows -> sample indices, with the same number of rows on every rank."""
    by_length = sorted(batch, key=lambda i: (-lengths[i], i))
    per_rank: list[list[int]] = [[] for _ in range(world_size)]
    loads = [0] * world_size
    for index in by_length:
        rank = min(range(world_size), key=lambda r: (loads[r], r))
        per_rank[rank].append(index)
        loads[rank] += lengths[index]
    rows = [_first_fit(indices, lengths, max_row_tokens) for indices in per_rank]
    most = max(1, *(len(r) for r in rows))
    for rank_rows in rows:
        rank_rows.extend([] for _ in range(most - len(rank_rows)))
    return rows


def _first_fit(indices: list[int], lengths: list[int], capacity: int) -> list[list[int]]:
    """Pack already length-sorted samples into rows of at most ``capacity`` tokens (a longer sample rides alone)."""
    rows: list[list[int]] = []
    room: list[int] = []
    for index in indices:
        for slot, free in enumerate(room):
            if lengths[index] <= free:
                rows[slot].append(index)
                room[slot] -= lengths[index]
                break
        else:
            rows.append([index])
            room.append(capacity - lengths[index])
    return rows


def collate_row(samples: list[TokenizedSample], filler_token: int = 0, *, share_prefix: bool = False) -> PackedRow:
    """Concatenate samples into one row; an empty list gives a one-token row with no targets.

    ``share_prefix``: samples whose untrained openings match for at least
    :data:`MIN_SHARED_PREFIX` tokens keep that opening once (module docstring). Only for
    attention kernels that take an explicit mask (SDPA; flash-attn's varlen path reads
    ``position_ids`` alone). Measured on the project's 2-core AMD EPYC (fp32, 2 threads,
    2026-12-07, 12 steps of 8 real lapis lazuli knowledge samples, alternating rounds): the
    rows hold 0.84 of the samples' tokens and train 1.18-1.31x the samples' tokens/s
    (147.9 and 145.4 against 112.9 and 123.2), gradients equal to 3e-5 of their largest entry;
    through the trainer, 96 samples of that mix at 144.6 and 140.6 tokens/s against 103.3 and 99.7
    (1.40x, ``bench/bench_train.py --openings shared,whole``); a whole lapis lazuli knowledge phase
    retrained with the same seed and order, 130.3 against 113.5 tokens/s (1.15x, 21.0 against 24.1 min).
    """
    if not samples:
        one = torch.tensor([[filler_token]])
        return PackedRow(one, torch.zeros_like(one), torch.full_like(one, IGNORE))
    groups = _prefix_groups(samples) if share_prefix else [([i], 0) for i in range(len(samples))]
    ids: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    sequence: list[int] = []  # which sample a token belongs to; -1 - group for a shared opening
    group_of: list[int] = []
    for group, (members, shared) in enumerate(groups):
        if shared:
            ids.extend(samples[members[0]].input_ids[:shared])
            positions.extend(range(shared))
            targets.extend([IGNORE] * shared)
            sequence.extend([-1 - group] * shared)
            group_of.extend([group] * shared)
        for index in members:
            sample = samples[index]
            n = len(sample.input_ids)
            ids.extend(sample.input_ids[shared:])
            positions.extend(range(shared, n))
            targets.extend(sample.input_ids[t + 1] if sample.loss_mask[t + 1] else IGNORE for t in range(shared, n - 1))
            targets.append(IGNORE)
            sequence.extend([index] * (n - shared))
            group_of.extend([group] * (n - shared))
    mask = None
    if any(shared for _, shared in groups):
        mask = _shared_prefix_mask(torch.tensor(positions), torch.tensor(sequence), torch.tensor(group_of))
    return PackedRow(torch.tensor([ids]), torch.tensor([positions]), torch.tensor([targets]), mask)


def shareable_length(sample: TokenizedSample) -> int:
    """Leading tokens whose next-token targets are all untrained (so another sample may supply them).

    The token before the first trained one predicts it and is kept in every sample; at least one
    token is always left to the sample itself.
    """
    first_trained = next((t for t in range(1, len(sample.loss_mask)) if sample.loss_mask[t]), len(sample.input_ids))
    return max(0, min(first_trained - 1, len(sample.input_ids) - 1))


def _prefix_groups(samples: list[TokenizedSample]) -> list[tuple[list[int], int]]:
    """``(members, shared tokens)`` per group, in order of their openings; 0 shared for a lone sample.

    Openings are sorted, so samples with a common opening sit next to each other; a sample joins
    the group before it when the match keeps at least :data:`MIN_SHARED_PREFIX` tokens and the group
    then saves more tokens than without it (a different system prompt that matches only
    "<|im_start|>system" starts a group of its own).
    """
    heads = [sample.input_ids[: shareable_length(sample)] for sample in samples]
    groups: list[tuple[list[int], int]] = []
    for index in sorted(range(len(samples)), key=lambda i: heads[i]):
        if groups:
            members, shared = groups[-1]
            common = min(shared, _common_length(heads[members[0]], heads[index]))
            if common >= MIN_SHARED_PREFIX and len(members) * common > (len(members) - 1) * shared:
                groups[-1] = ([*members, index], common)
                continue
        groups.append(([index], len(heads[index])))
    return [(members, shared if len(members) > 1 else 0) for members, shared in groups]


def _common_length(a: list[int], b: list[int]) -> int:
    return sum(1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=False)))


def _shared_prefix_mask(positions: torch.Tensor, sequence: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """``[1, 1, T, T]`` bool: causal within each sample, and every sample of a group sees its shared opening."""
    causal = positions[None, :] <= positions[:, None]
    same_sample = sequence[:, None] == sequence[None, :]
    shared_key = (sequence < 0)[None, :] & (group[:, None] == group[None, :])
    return (causal & (same_sample | shared_key))[None, None]
