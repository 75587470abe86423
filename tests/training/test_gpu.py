"""The CUDA path (bf16 autocast, flash-attn when installed). Skipped without a GPU: none exists on CI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from training_kit import write_messages

from taxolab.training.api import train
from taxolab.training.metrics import read_metrics
from taxolab.training.model_io import resolve_hardware
from taxolab.training.settings import TrainSettings

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_gpu_training_uses_bf16_autocast_and_learns(tmp_path: Path, tiny_model_dir: Path) -> None:
    settings = TrainSettings(effective_batch_size=8, learning_rate=1e-3, epochs=3, validation_split=0.0)
    hardware = resolve_hardware(settings)
    assert hardware.device_type == "cuda" and hardware.autocast_dtype == torch.bfloat16
    data = write_messages(tmp_path / "mix.jsonl", 32, seed=9)
    result = train(data, model_path=tiny_model_dir, output_dir=tmp_path / "out", settings=settings,
                   show_progress=False)  # fmt: skip
    losses = [row["loss"] for row in read_metrics(result.phases[0].metrics_file)]
    assert losses[-1] < losses[0]
