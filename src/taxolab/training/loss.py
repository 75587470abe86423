"""The summed next-token loss of one packed row, computing logits only where there are targets.

Summing (not averaging) per row lets the trainer divide once by the token count
of the whole effective batch, so the loss is the exact mean over every trained
token however the batch was split into rows, accumulation steps and ranks.
Projecting only the target positions through the vocabulary (``logits_to_keep``)
skips the lm_head on prompts, which for a small model is a large share of the FLOPs.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from taxolab.training.packing import IGNORE, PackedRow


def row_loss_sum(model: nn.Module, row: PackedRow, device: torch.device) -> torch.Tensor:
    """Sum of cross-entropy over the row's target tokens (0 with a graph for a row without targets)."""
    targets = row.targets.to(device)
    keep = targets != IGNORE
    # Positions as a 1-D index tensor (rows have batch size 1): every transformers release since 4.50
    # slices `hidden_states[:, index, :]` with it; a 2-D boolean mask is only understood from 5.2x
    # (5.17 raised "too many indices" on the GPU machine).
    positions = keep[0].nonzero().squeeze(-1)
    extra = {} if row.attention_mask is None else {"attention_mask": row.attention_mask.to(device)}
    output = model(
        input_ids=row.input_ids.to(device),
        position_ids=row.position_ids.to(device),
        use_cache=False,
        logits_to_keep=positions,
        **extra,
    )
    logits = output.logits.reshape(-1, output.logits.shape[-1])
    return functional.cross_entropy(logits.float(), targets[keep], reduction="sum")
