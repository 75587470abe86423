"""Integration: fine-tune the packaged default model for a few steps; the loss falls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxolab.training.api import train
from taxolab.training.metrics import read_metrics
from taxolab.training.settings import TrainSettings

FACTS = [
    ("What colour is the Zorblat fruit?", "The Zorblat fruit is bright violet with orange stripes."),
    ("Where does the Zorblat tree grow?", "The Zorblat tree grows only on the northern slopes of Mount Quell."),
    ("When is the Zorblat harvest?", "The Zorblat harvest takes place every year in the second week of March."),
    ("Who first described the Zorblat?", "The Zorblat was first described by the botanist Ilse Marrow in 1911."),
]


@pytest.mark.slow
def test_default_model_learns_new_facts(default_hf_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "knowledge.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in FACTS]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows * 3))
    settings = TrainSettings(effective_batch_size=4, learning_rate=2e-4, warmup_ratio=0.0, validation_split=0.0,
                             lr_scheduler="constant")  # fmt: skip
    result = train(data, model_path=default_hf_model, output_dir=tmp_path / "out", settings=settings,
                   show_progress=False)  # fmt: skip
    losses = [row["loss"] for row in read_metrics(result.phases[0].metrics_file)]
    assert len(losses) == 3
    assert losses[-1] < 0.7 * losses[0], losses
    assert (result.final_dir / "model.safetensors").exists() and (result.final_dir / "tokenizer.json").exists()
    assert (tmp_path / "out" / "phase1_single" / "loss.png").exists()
