"""``taxolab model train`` end to end through the CLI on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_kit import write_messages

from taxolab.cli.main import main


def test_train_command_json_and_config_keys(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_messages(tmp_path / "mix.jsonl", 12, seed=8)
    config = tmp_path / "config.yaml"
    config.write_text("train:\n  effective_batch_size: 4\n  learning_rate: 0.001\n  max_seq_len: 256\n")
    code = main(["--config", str(config), "model", "train", "--data-path", str(data), "--model-path",
                 str(tiny_model_dir), "--output-dir", str(tmp_path / "out"), "--epochs", "2", "--json"])  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["strategy"] == "single"
    phase = result["phases"][0]
    assert [c["name"] for c in phase["checkpoints"]] == ["epoch_1", "epoch_2"]
    assert phase["train_samples"] + phase["validation_samples"] + sum(phase["dropped"].values()) == 12
    rows = [json.loads(line) for line in Path(phase["metrics_file"]).read_text().splitlines()]
    assert len(rows) == 2 * 3  # 12 samples at most minus validation, 4 per step, 2 epochs
    assert {"loss", "lr", "grad_norm", "tokens", "tokens_per_s", "samples_seen"} <= rows[0].keys()
    journal = json.loads((tmp_path / "out" / "training.json").read_text())["info"]
    assert journal["inputs"]["settings"]["effective_batch_size"] == 4  # from the config file
    assert journal["inputs"]["settings"]["epochs"] == 2  # from the flag


def test_missing_model_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_messages(tmp_path / "mix.jsonl", 2)
    code = main(["model", "train", "--data-path", str(data), "--model-path", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "not a GGUF file, HF model folder" in err and "taxolab model list" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
