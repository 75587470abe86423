"""AdamW over the trainable parameters and a warmup-then-decay learning-rate schedule."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from taxolab.training.settings import TrainSettings


def build_optimizer(model: nn.Module, settings: TrainSettings, lr: float) -> torch.optim.Optimizer:
    """AdamW (torch's multi-tensor path, which also handles FSDP2's sharded DTensor parameters)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, weight_decay=settings.weight_decay, betas=(0.9, 0.95))


def build_scheduler(optimizer: torch.optim.Optimizer, settings: TrainSettings, total_steps: int) -> LambdaLR:
    warmup = math.ceil(settings.warmup_ratio * total_steps)
    return LambdaLR(optimizer, lambda step: lr_factor(step, warmup, total_steps, settings.lr_scheduler))


def lr_factor(step: int, warmup: int, total: int, shape: str) -> float:
    """Multiplier of the peak LR for optimizer step ``step`` (0-based): linear warmup, then ``shape``."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    if shape == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if shape == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
