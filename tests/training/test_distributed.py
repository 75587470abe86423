"""Two CPU processes (torchrun, gloo on 127.0.0.1) train exactly like one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from training_kit import write_messages

from taxolab.training.api import train
from taxolab.training.launch import torchrun_command
from taxolab.training.metrics import read_metrics
from taxolab.training.settings import TrainSettings


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fsdp", "ddp"])
def test_two_ranks_give_the_same_updates_as_one(tmp_path: Path, tiny_model_dir: Path, mode: str) -> None:
    data = write_messages(tmp_path / "data.jsonl", 30, seed=4, max_words=60)
    # fp32: the sums are compared to 1e-5, and bf16 autocast (`auto` on CPUs with bf16 units) rounds each
    # matmul of a row differently when the rows are split across ranks.
    common = {"effective_batch_size": 8, "learning_rate": 1e-3, "max_batch_len": 160, "validation_split": 0.1,
              "distributed": mode, "precision": "fp32"}  # fmt: skip
    one = train(data, model_path=tiny_model_dir, output_dir=tmp_path / "one", settings=TrainSettings(**common),
                show_progress=False)  # fmt: skip
    two = train(data, model_path=tiny_model_dir, output_dir=tmp_path / "two",
                settings=TrainSettings(nproc_per_node=2, **common), show_progress=False)  # fmt: skip

    rows_one, rows_two = read_metrics(one.phases[0].metrics_file), read_metrics(two.phases[0].metrics_file)
    assert [r["loss"] for r in rows_two] == pytest.approx([r["loss"] for r in rows_one], abs=1e-5)
    assert [r["grad_norm"] for r in rows_two] == pytest.approx([r["grad_norm"] for r in rows_one], rel=1e-4)
    assert two.phases[0].checkpoints[-1]["val_loss"] == pytest.approx(one.phases[0].checkpoints[-1]["val_loss"])
    weights_one = load_file(str(one.final_dir / "model.safetensors"))
    weights_two = load_file(str(two.final_dir / "model.safetensors"))
    assert weights_one.keys() == weights_two.keys()
    for name, tensor in weights_one.items():
        torch.testing.assert_close(weights_two[name], tensor, atol=1e-5, rtol=1e-4, msg=name)


def test_torchrun_command_for_several_nodes() -> None:
    settings = TrainSettings(nproc_per_node=8, nnodes=2, node_rank=1, rdzv_endpoint="10.0.0.1:29400")
    command = torchrun_command(settings, Path("spec.json"), "run1")
    assert command[1:3] == ["-m", "torch.distributed.run"]
    assert {"--nproc-per-node=8", "--nnodes=2", "--node-rank=1", "--rdzv-endpoint=10.0.0.1:29400"} <= set(command)
    assert command[-3:] == ["-m", "taxolab.training.worker", "spec.json"]
    assert "--standalone" in torchrun_command(TrainSettings(nproc_per_node=2), Path("s"), "r")
