"""Profiles are config overrides: flags and --set win over them, the config file does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.errors import TaxolabError
from taxolab.workflow.profiles import PROFILES, assignments, load_run_config, resolve_profile


def test_profile_overrides_the_file_and_flags_override_the_profile(tmp_path: Path) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text("train:\n  epochs: 5\n  seed: 7\n")
    profile = resolve_profile("cpu-small")
    config = load_run_config(config_file, profile)
    assert config.train.epochs == 1 and config.train.seed == 7
    config = load_run_config(config_file, profile, assignments(["train.epochs=3"]), {"train": {"method": "lora"}})
    assert (config.train.epochs, config.train.method, config.train.precision) == (3, "lora", "fp32")


def test_every_profile_is_a_valid_config() -> None:
    for name in PROFILES:
        config = load_run_config(None, resolve_profile(name))
        assert config.generate.sdg_scale_factor >= 1
    assert load_run_config(None, resolve_profile("gpu-8")).train.nproc_per_node == 8
    assert load_run_config(None, resolve_profile("gpu-1")).train.precision == "bf16"


def test_auto_is_cpu_small_without_a_gpu() -> None:
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve_profile("auto").name == "cpu-small"


def test_assignments_parse_yaml_scalars_and_reject_bad_ones() -> None:
    assert assignments(["documents.offline=true", "train.learning_rate=1e-5", "generate.pipeline=full"]) == {
        "documents": {"offline": True},
        "train": {"learning_rate": 1e-5},
        "generate": {"pipeline": "full"},
    }
    with pytest.raises(TaxolabError):
        assignments(["epochs=3"])
    with pytest.raises(TaxolabError):
        resolve_profile("tpu-64")
