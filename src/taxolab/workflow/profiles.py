"""Run profiles: named config overrides sized for a machine class.

A profile is nothing but a nested dict laid over the config, so every value
it sets is an ordinary documented key (``taxolab config show`` explains it),
the loop's own choices included (``run.outtype``, ``run.max_chunks_per_leaf``),
and any flag given on the command line (or ``--set SECTION.KEY=VALUE``) wins
over it. Precedence for ``taxolab run``: defaults < config file < environment
< profile < flags. The profile sits above the file because ``config init``
writes every key into the file, defaults included. :func:`load_run_config`
applies it, and it is the only thing that does: the command line and a Python
caller of :func:`taxolab.workflow.run.run_workflow` get the same config.

- ``cpu-small``: the packaged 135M model on a laptop CPU: answer-first
  knowledge pairs from every chunk, closed-book only (no with-context samples),
  4-6 knowledge epochs at 5e-4 (6 for a short document, within a token
  budget) then, with skills leaves, 1 skills epoch at 1e-4 with replay, bf16
  autocast where the CPU has bf16 matrix instructions (else fp32),
  packed rows of 512 tokens; a one-leaf knowledge taxonomy takes ~15-35
  minutes on 2 idle cores (bench/bench_knowledge_recall.py).
- ``gpu-1``: one CUDA GPU. The `full` generation pipeline at 30 samples per
  seed example with long teacher answers, bf16 training with packed rows of
  16k tokens and flash attention when installed, upstream InstructLab's phase
  recipe (knowledge 7 epochs at 2e-5, EBS 128; skills 10 epochs at 6e-6, EBS
  3840), full length answers and judgments.
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
from taxolab.config.moved import move_keys
from taxolab.console import stderr
from taxolab.errors import TaxolabError

AUTO = "auto"


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    overrides: dict[str, Any]


_CPU_SMALL = Profile(
    "cpu-small",
    "packaged default model on a 2-core CPU: answer-first knowledge, 4-6 knowledge epochs at 5e-4, bf16 where the CPU has it",
    {
        "generate": {
            "pipeline": "simple",
            "sdg_scale_factor": 1,
            "max_num_tokens": 256,
            "chunk_word_count": 400,
            "chunk_overlap": 40,
            "batch_size": 4,
        },
        # With-context (RAFT) samples carry a paragraph each: ~8x the tokens of a closed-book pair,
        # which a 2-core CPU cannot afford; the knowledge phase trains closed-book pairs + passages.
        # Forms per fact (mix.forms): one fill-in per fact and one permuted order of each passage. On the
        # chickadee run's generation (bench/bench_mix_forms.py) the knowledge mix grew from 290 samples /
        # 26k tokens per epoch to 545 / 60k (x2.27 tokens) with two permuted orders, forms per fact median
        # 2 -> 5; the defaults (3 fill-ins per fact) would make it 664 / 73k (x2.80). One order instead of
        # two (2026-12-05, bench/bench_knowledge_recall.py --leaf chickadee): 12/20 either way, 15% fewer
        # trained tokens (236k -> 201k), which is what keeps the chickadee run near 30 minutes. Cue questions (the
        # default mix.forms, 2 per fact) cost 1.43x the knowledge tokens per epoch on zebu and answered 11/20 and
        # 14/20 on zebu and lapis lazuli where the same generations without them answered 7 and 7 (docs/train.md).
        # Epoch variants (one draw of the fill-ins, cue questions and permuted orders per knowledge epoch, the same
        # tokens per epoch): each bench leaf's own generation retrained with mix.epoch_variants=4, nothing else
        # changed, answered lapis lazuli 15/20 against 9 (7 questions gained, 1 lost), zebu 12/20 against 10 (+5 -3)
        # and chickadee 15/20 against 14 (+1 -0): 42/60 against 33, 13 gained and 4 lost (docs/train.md).
        "mix": {"context_ratio": 0.0, "fill_in_per_fact": 1, "passage_permutations": 1, "epoch_variants": 6},
        "serve": {"max_ctx_size": 2048, "parallel": 4},
        # Knowledge recipe measured on this machine class (bench/bench_knowledge_recall.py): full
        # fine-tune of the 135M student on answer-first pairs + passages. At 2e-5 for 1 epoch (the old
        # default, ~9 optimizer steps) nothing was learned (0/20); at 5e-4 with cosine decay the held-out
        # recall on a 60-sentence slice of the chickadee document went 1/11 -> 5/11 -> 9/11 after epochs
        # 1, 3 and 4. With skills leaves, the skills phase replays a share of the knowledge samples at a lower
        # rate so the facts stay (LAB phase 2); a knowledge-only taxonomy trains the knowledge phase alone.
        "train": {
            "method": "full",
            "epochs": 1,
            "effective_batch_size": 8,
            # Up to 6 knowledge epochs (each with its own epoch variant, mix.epoch_variants) within a budget of
            # 300k tokens, never fewer than 4: zebu and lapis lazuli (~27k tokens per epoch) train 6, the
            # chickadee leaf (~65k) and longer documents 4, so the chickadee run keeps its time. Measured on the
            # stored zebu and lapis lazuli generations, each retrained with 6 epochs against 4
            # (bench/bench_knowledge_recall.py --lever, 2026-12-06; docs/train.md "Six epochs for short documents"):
            # the run's own held-out recall rose in all four pairs (two training seeds), the hand-written questions
            # 50/80 against 44/80 (12 gained, 6 lost, exact sign test p = 0.24).
            # Without variants, 8 epochs had moved own recall down (64% -> 40%, 67% -> 30%).
            "knowledge_epochs": 6,
            "knowledge_min_epochs": 4,
            "knowledge_token_budget": 300_000,
            "knowledge_learning_rate": 5e-4,
            "skills_epochs": 1,
            "skills_learning_rate": 1e-4,
            "warmup_ratio": 0.05,
            "max_seq_len": 1024,
            "max_batch_len": 512,
            # train.precision stays `auto`: bf16 autocast where the CPU has bf16 matrix instructions
            # (1.2-1.5x the tokens/s, the same recall), else fp32 (docs/train.md, "CPU defaults").
            "device": "cpu",
            "validation_split": 0.05,
            "validation_max_samples": 8,
            # Each knowledge epoch leaves a checkpoint; train.select_by `auto` picks the one the skills
            # phase starts from by recall on the mix's dev split (the test split is what the report scores).
            "checkpoint_every_samples": 0,
        },
        # The forgetting check (run.forgetting) scores 150 MMLU questions per model by log-likelihood:
        # about a minute per model on 2 cores, and a 95% interval of about +-8 points on one model's accuracy.
        "evaluate": {
            "max_tokens": 128,
            "judge_max_tokens": 192,
            "mt_bench_limit": 8,
            "batch_size": 8,
            "mmlu_sample": 150,
        },
        # No chunk cap: every chunk of every document is used (a cap is a budget the user sets and sees).
        # f16: the export evaluation measures the checkpoint through (no recall lost). q8_0 changed the
        # greedy answers of the 135M model on 14 and 12 of 15 questions in two runs and scored -0.27 and
        # -0.07 facts learned (bench/bench_export_recall.py; noisy, busy machine), at 0.53x the size.
        "run": {"outtype": "f16"},
    },
)

_GPU_1 = Profile(
    "gpu-1",
    "one CUDA GPU: full pipeline at scale 30, bf16, packed 16k-token rows, upstream LAB phase recipe",
    {
        "generate": {"pipeline": "full", "sdg_scale_factor": 30, "max_num_tokens": 2048, "batch_size": 8},
        "serve": {"max_ctx_size": 8192, "parallel": 16},
        # Phases as upstream InstructLab ships them for 7B-8B students (phase 1 / knowledge: 7 epochs
        # at 2e-5, 128 samples per step; phase 2 / skills: 10 epochs at 6e-6, 3840 samples per step).
        # Not measured here (no GPU lent); the CPU recipe differs because a 135M student on one
        # leaf's few hundred pairs learns nothing at 2e-5 (cpu-small above).
        "train": {
            "method": "full",
            "epochs": 2,
            "effective_batch_size": 64,
            "knowledge_epochs": 7,
            "knowledge_learning_rate": 2e-5,
            "knowledge_effective_batch_size": 128,
            "skills_epochs": 10,
            "skills_learning_rate": 6e-6,
            "skills_effective_batch_size": 3840,
            "max_seq_len": 4096,
            "max_batch_len": 16384,
            "precision": "bf16",
            "device": "cuda",
            "attention": "auto",
            "nproc_per_node": 1,
            "checkpoint_every_samples": 2000,
        },
        "evaluate": {
            "max_tokens": 1024,
            "judge_max_tokens": 1024,
            "device": "cuda",
            "batch_size": 32,
            "mmlu_sample": 2000,
        },
        "run": {"outtype": "f16"},
    },
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
    """The config for one run: file and environment, then the profile, then each layer of flags in order.

    The only place a profile is applied: ``taxolab run`` and Python callers
    of :func:`taxolab.workflow.run.run_workflow` both build their config here,
    so they run with the same values (``gpu-1`` converts to f16 either way).
    The result remembers the profile (``config.profile``).
    """
    merged = copy.deepcopy(profile.overrides)
    for layer in layers:
        own = copy.deepcopy(dict(layer))
        # an old key in a later layer must beat the profile's new one, so each layer moves its own keys
        notice = move_keys(own, "command-line flags")
        if notice:
            stderr.print(notice, highlight=False, soft_wrap=True)
        _merge(merged, own)
    config = load_config(config_path, merged)
    config._profile = profile.name
    return config


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
