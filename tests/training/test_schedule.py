"""Learning-rate schedule and small pieces of the loop."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import pytest
import torch

from taxolab.cpuinfo import native_bf16
from taxolab.errors import TaxolabError
from taxolab.training.metrics import MetricsLog
from taxolab.training.model_io import default_max_batch_len, resolve_hardware
from taxolab.training.optim import lr_factor
from taxolab.training.settings import TrainSettings
from taxolab.training.trainer import _due


def test_warmup_then_cosine_to_zero() -> None:
    factors = [lr_factor(step, warmup=2, total=10, shape="cosine") for step in range(10)]
    assert factors[0] < factors[1] < factors[2] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(factors[2:]))
    assert lr_factor(10, 2, 10, "cosine") == pytest.approx(0.0)
    assert lr_factor(5, 2, 10, "constant") == 1.0
    assert lr_factor(6, 2, 10, "linear") == pytest.approx(0.5)


def test_checkpoint_every_n_samples_fires_when_a_multiple_is_crossed() -> None:
    assert [seen for seen in range(6, 61, 6) if _due(16, seen, 6)] == [18, 36, 48]
    assert not _due(0, 16, 16)


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None, reason="tensorboard is installed")
def test_tensorboard_without_the_package_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(TaxolabError, match="pip install tensorboard"):
        MetricsLog(tmp_path / "m.jsonl", resume_after_step=0, tensorboard_dir=tmp_path / "tb")


def test_cpu_hardware_defaults() -> None:
    """bf16 autocast where the CPU has bf16 units, else fp32; SDPA on CPU; 512-token packed rows unless asked otherwise."""
    settings = TrainSettings(device="cpu")
    hardware = resolve_hardware(settings)
    autocast = torch.bfloat16 if native_bf16() else None
    assert (hardware.device_type, hardware.autocast_dtype, hardware.attention) == ("cpu", autocast, "sdpa")
    assert default_max_batch_len(settings, hardware) == 512
    assert default_max_batch_len(settings.model_copy(update={"max_batch_len": 2048}), hardware) == 2048
