"""Interrupted runs resume from the last full state and end with the uninterrupted run's loss curve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from training_kit import write_messages

from taxolab.training import trainer
from taxolab.training.api import train
from taxolab.training.metrics import read_metrics
from taxolab.training.settings import TrainSettings

FLAGS: dict[str, Any] = {
    "effective_batch_size": 4,
    "epochs": 2,
    "learning_rate": 1e-3,
    "checkpoint_every_samples": 16,
    "validation_split": 0.0,
    "max_batch_len": 128,
}


def losses(result: Any) -> list[float]:
    return [row["loss"] for row in read_metrics(result.phases[0].metrics_file)]


def wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@pytest.mark.slow
def test_kill_9_mid_epoch_then_rerun_matches_uninterrupted(tmp_path: Path, tiny_model_dir: Path) -> None:
    """LoRA with dropout: adapter weights, optimizer, schedule, data position and RNG must all come back."""
    data = write_messages(tmp_path / "data.jsonl", 40, seed=1)
    settings = TrainSettings(method="lora", lora_dropout=0.1, **{**FLAGS, "epochs": 1})
    expected = losses(train(data, model_path=tiny_model_dir, output_dir=tmp_path / "ref", settings=settings,
                            show_progress=False))  # fmt: skip

    out = tmp_path / "killed"
    metrics, state = out / "phase1_single" / "metrics.jsonl", out / "phase1_single" / "state" / "state.pt"
    args = ["model", "train", "--data-path", str(data), "--model-path", str(tiny_model_dir), "--output-dir", str(out)]
    for key, value in settings.model_dump(exclude_defaults=True).items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    process = subprocess.Popen([sys.executable, "-m", "taxolab.cli.main", *args], stderr=subprocess.DEVNULL,
                               env=os.environ.copy())  # fmt: skip
    try:
        # The state is saved after step 4; kill once steps 5-6 are done (and not saved).
        wait_for(lambda: state.exists() and len(read_metrics(metrics)) >= 6, timeout=120)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert 6 <= len(read_metrics(metrics)) < len(expected)

    resumed = train(data, model_path=tiny_model_dir, output_dir=out, settings=settings, show_progress=False)
    assert losses(resumed) == pytest.approx(expected, abs=1e-6)
    assert [row["step"] for row in read_metrics(metrics)] == list(range(1, len(expected) + 1))
    # A finished phase keeps its checkpoints but not its resume state (3x the model's size on disk).
    assert not state.parent.exists()
    assert all(Path(c["path"]).is_dir() for c in resumed.phases[0].checkpoints)


@pytest.mark.slow
def test_crash_in_second_epoch_resumes_full_fine_tuning(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_messages(tmp_path / "data.jsonl", 24, seed=2)
    settings = TrainSettings(**FLAGS)
    expected = losses(train(data, model_path=tiny_model_dir, output_dir=tmp_path / "ref", settings=settings,
                            show_progress=False))  # fmt: skip
    real_step, calls = trainer._train_step, []

    def crash_at_step_9(*args: Any) -> dict[str, float]:
        calls.append(1)
        if len(calls) == 9:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(trainer, "_train_step", crash_at_step_9)
    with pytest.raises(KeyboardInterrupt):
        train(data, model_path=tiny_model_dir, output_dir=tmp_path / "run", settings=settings, show_progress=False)
    monkeypatch.setattr(trainer, "_train_step", real_step)
    resumed = train(data, model_path=tiny_model_dir, output_dir=tmp_path / "run", settings=settings,
                    show_progress=False)  # fmt: skip
    assert losses(resumed) == pytest.approx(expected, abs=1e-6)
    assert [c["name"] for c in resumed.phases[0].checkpoints] == [
        "samples_16",
        "epoch_1",
        "samples_32",
        "samples_48",
        "epoch_2",
    ]
