"""Run profiles: named config overrides sized for a machine class.

A profile is nothing but a nested dict laid over the config, so every value
it sets is an ordinary documented key (``taxolab config show`` explains it)
and any flag given on the command line (or ``--set SECTION.KEY=VALUE``) wins
over it. Precedence for ``taxolab run``: defaults < config file < environment
< profile < flags. The profile sits above the file because ``config init``
writes every key into the file, defaults included.

- ``cpu-small``: the packaged 135M model on a laptop CPU, the whole loop of
  the sample taxonomy in well under 30 minutes on 2 cores. Teacher answers are
  short, one sample per seed example, one epoch per phase, fp32, answers and
  judgments capped at a few hundred tokens.
- ``gpu-1``: one CUDA GPU. The `full` generation pipeline at 30 samples per
  seed example with long teacher answers, bf16 training with packed rows of
  16k tokens and flash attention when installed, 2 epochs per phase, full
  length answers and judgments.
- ``gpu-8``: ``gpu-1`` on 8 GPUs of one node: torchrun with 8 processes,
  FSDP sharding, a 128-sample effective batch.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.config import Config, load_config
from taxolab.errors import TaxolabError

AUTO = "auto"


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    overrides: dict[str, Any]
    # Options of the loop itself (not config keys): see workflow.run.RunOptions.
    run: dict[str, Any]


_CPU_SMALL = Profile(
    "cpu-small",
    "packaged default model on a 2-core CPU: short answers, 1 sample per seed, 1 epoch per phase, fp32",
    {
        "generate": {
            "pipeline": "simple",
            "sdg_scale_factor": 1,
            "max_num_tokens": 256,
            "chunk_word_count": 400,
            "chunk_overlap": 40,
            "batch_size": 4,
        },
        "serve": {"max_ctx_size": 2048, "parallel": 4},
        "train": {
            "method": "full",
            "epochs": 1,
            "effective_batch_size": 8,
            "learning_rate": 2e-5,
            "max_seq_len": 1024,
            "max_batch_len": 1024,
            "precision": "fp32",
            "device": "cpu",
            "validation_split": 0.1,
            "validation_max_samples": 8,
            "checkpoint_every_samples": 0,
        },
        "evaluate": {"max_tokens": 128, "judge_max_tokens": 192, "mt_bench_limit": 8, "batch_size": 8},
    },
    {"max_chunks_per_leaf": 3, "outtype": "q8_0"},
)

_GPU_1 = Profile(
    "gpu-1",
    "one CUDA GPU: full pipeline at scale 30, bf16, packed 16k-token rows, 2 epochs per phase",
    {
        "generate": {"pipeline": "full", "sdg_scale_factor": 30, "max_num_tokens": 2048, "batch_size": 8},
        "serve": {"max_ctx_size": 8192, "parallel": 16},
        "train": {
            "method": "full",
            "epochs": 2,
            "effective_batch_size": 64,
            "max_seq_len": 4096,
            "max_batch_len": 16384,
            "precision": "bf16",
            "device": "cuda",
            "attention": "auto",
            "nproc_per_node": 1,
            "checkpoint_every_samples": 2000,
        },
        "evaluate": {"max_tokens": 1024, "judge_max_tokens": 1024, "device": "cuda", "batch_size": 32},
    },
    {"max_chunks_per_leaf": None, "outtype": "f16"},
)

_GPU_8 = Profile(
    "gpu-8",
    "8 CUDA GPUs on one node: gpu-1 under torchrun with FSDP, 128-sample effective batch",
    {
        **copy.deepcopy(_GPU_1.overrides),
        "train": {
            **_GPU_1.overrides["train"],
            "nproc_per_node": 8,
            "distributed": "fsdp",
            "effective_batch_size": 128,
        },
        "serve": {"max_ctx_size": 8192, "parallel": 64},
    },
    dict(_GPU_1.run),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (_CPU_SMALL, _GPU_1, _GPU_8)}
PROFILE_NAMES = (AUTO, *PROFILES)


def auto_profile() -> str:
    """``cpu-small`` without CUDA, ``gpu-1`` with one GPU, ``gpu-8`` (nproc = GPU count) with several."""
    try:
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:  # pragma: no cover - torch is a dependency
        count = 0
    return "cpu-small" if count == 0 else "gpu-1" if count == 1 else "gpu-8"


def resolve_profile(name: str) -> Profile:
    """The profile called ``name`` (``auto`` resolved for this machine), as a copy the caller may change."""
    resolved = auto_profile() if name == AUTO else name
    if resolved not in PROFILES:
        raise TaxolabError(f"unknown profile {name!r}: choose one of {', '.join(PROFILE_NAMES)}")
    profile = copy.deepcopy(PROFILES[resolved])
    if resolved == "gpu-8" and name == AUTO:
        import torch

        profile.overrides["train"]["nproc_per_node"] = torch.cuda.device_count()
    return profile


def load_run_config(config_path: Path | None, profile: Profile, *layers: Mapping[str, Any]) -> Config:
    """The config for one run: file and environment, then the profile, then each layer of flags in order."""
    merged = copy.deepcopy(profile.overrides)
    for layer in layers:
        _merge(merged, layer)
    return load_config(config_path, merged)


def assignments(values: list[str]) -> dict[str, Any]:
    """``["train.max_seq_len=768", "documents.offline=true"]`` -> nested overrides (values read as YAML scalars).

    For keys that have no flag of their own; they win over the profile like flags do.
    """
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    result: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        keys = [part for part in key.strip().split(".") if part]
        if not sep or len(keys) < 2:
            raise TaxolabError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. train.max_seq_len=768")
        node = result
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        node[keys[-1]] = yaml.load(raw) if raw.strip() else None
    return result


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
