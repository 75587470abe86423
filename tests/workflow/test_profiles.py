"""Profiles are config overrides: flags and --set win over them, the config file does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taxolab.config import load_config
from taxolab.errors import TaxolabError
from taxolab.sdg.chunks import TOKENS_PER_WORD, ChunkPlan
from taxolab.workflow.profiles import PROFILES, assignments, load_run_config, resolve_profile


def test_profile_overrides_the_file_and_flags_override_the_profile(tmp_path: Path) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text("train:\n  epochs: 5\n  seed: 7\n")
    profile = resolve_profile("cpu-small")
    config = load_run_config(config_file, profile)
    assert config.train.epochs == 1 and config.train.seed == 7
    config = load_run_config(config_file, profile, assignments(["train.epochs=3"]), {"train": {"method": "lora"}})
    assert (config.train.epochs, config.train.method, config.train.precision) == (3, "lora", "auto")


def overridden(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (key path, value) a profile sets."""
    found = []
    for key, value in tree.items():
        if isinstance(value, dict):
            found.extend(overridden(value, (*prefix, key)))
        else:
            found.append(((*prefix, key), value))
    return found


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_value_reaches_the_config_unchanged(name: str) -> None:
    """Each key a profile sets arrives as set (not renamed, dropped, clamped or coerced) and differs from the default."""
    profile = resolve_profile(name)
    config = load_run_config(None, profile).model_dump(mode="json")
    defaults = load_config(None).model_dump(mode="json")
    changed = 0
    for keys, value in overridden(profile.overrides):
        node, default = config, defaults
        for key in keys:
            node, default = node[key], default[key]
        assert node == value, f"{name}: {'.'.join(keys)} is {node!r}, the profile sets {value!r}"
        changed += node != default
    assert changed >= 10, f"{name} changes only {changed} defaults"


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_fits_the_machine_it_is_for(name: str) -> None:
    """What makes a profile right for its machine class, beyond the values being of the right type."""
    config = load_run_config(None, resolve_profile(name))
    gpu = name.startswith("gpu")
    train, generate = config.train, config.generate
    # GPUs train in bf16; CPU profiles leave `auto` (bf16 autocast only where the CPU has bf16 units, docs/train.md).
    assert (train.device, train.precision) == (("cuda", "bf16") if gpu else ("cpu", "auto"))
    assert (config.evaluate.device == "cuda") == gpu
    # Every process gets a whole share of the effective batch.
    assert train.effective_batch_size % (train.nproc_per_node * train.nnodes) == 0
    # On GPUs a packed row holds at least one sample of the longest kept length; on CPUs, where attention
    # over a packed row costs its full square, rows stay short (the trainer runs a longer sample alone).
    assert train.max_batch_len is not None
    assert train.max_batch_len >= (train.max_seq_len if gpu else 512)
    # The knowledge phase gets far more optimizer steps than one epoch (issue 11: 1 epoch at 2e-5 taught nothing).
    assert (train.knowledge_epochs or train.epochs) >= (4 if not gpu else 2)
    # A chunk, the prompt around it and the longest answer fit the teacher's context: chunks are not shrunk.
    plan = ChunkPlan.fit(generate.chunk_word_count, generate.chunk_overlap, config.serve.max_ctx_size,
                         generate.max_num_tokens)  # fmt: skip
    assert plan.max_tokens == int(generate.chunk_word_count * TOKENS_PER_WORD)
    # Issue 11 (lead's decision): no profile caps the chunks; a cap is a budget the user sets.
    assert config.run.max_chunks_per_leaf is None
    assert config.run.outtype == "f16"  # the export that loses no measured recall, on every machine
    assert load_run_config(None, resolve_profile("gpu-8")).train.nproc_per_node == 8


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
