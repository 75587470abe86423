"""Padding-free packing: which samples go into which forward pass, on which rank.

An optimizer step takes ``effective_batch_size`` samples. They are spread over
the ranks so each gets about the same number of tokens, then packed on each
rank into rows of at most ``max_row_tokens`` (first-fit decreasing). A row is
one forward pass: samples concatenated, ``position_ids`` restarting at 0 for
each, so attention stays inside each sample. Every rank runs the same number of
rows (FSDP's collectives need that): short ranks get empty rows, which run a
one-token forward with no loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from taxolab.training.tokenize import TokenizedSample

IGNORE = -100


@dataclass(frozen=True)
class PackedRow:
    """One forward pass: ``[1, T]`` tensors; ``targets`` is -100 where nothing is predicted."""

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    targets: torch.Tensor

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


def collate_row(samples: list[TokenizedSample], filler_token: int = 0) -> PackedRow:
    """Concatenate samples into one row; an empty list gives a one-token row with no targets."""
    if not samples:
        one = torch.tensor([[filler_token]])
        return PackedRow(one, torch.zeros_like(one), torch.full_like(one, IGNORE))
    ids: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    for sample in samples:
        n = len(sample.input_ids)
        ids.extend(sample.input_ids)
        positions.extend(range(n))
        targets.extend(sample.input_ids[t + 1] if sample.loss_mask[t + 1] else IGNORE for t in range(n - 1))
        targets.append(IGNORE)
    return PackedRow(torch.tensor([ids]), torch.tensor([positions]), torch.tensor([targets]))
