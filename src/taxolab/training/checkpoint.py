"""Checkpoints: HF folders for people and servers, one full-state file for resuming.

* An HF checkpoint is a folder ``transformers`` loads as is (safetensors,
  config, tokenizer, chat template). LoRA runs are merged into full weights
  there, and the adapter is kept next to them in ``adapter/``.
* The resume state (trainable weights, optimizer, scheduler, data position,
  RNG) is one file replaced atomically, so a kill -9 at any moment leaves the
  previous complete state.

Both gather full (unsharded) tensors with ``torch.distributed.checkpoint``'s
state-dict helpers, which work the same for one process, DDP and FSDP2; only
rank 0 writes, and rank 0 alone reads the state back and broadcasts it.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)

from taxolab import fsio
from taxolab.training.distributed import DistEnv, barrier
from taxolab.training.model_io import lora_config
from taxolab.training.settings import TrainSettings

STATE_FILE = "state.pt"
TRAINER_STATE = "trainer_state.json"


def save_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, *, progress: dict[str, Any], env: DistEnv
) -> None:
    """Write everything needed to continue exactly where training is now."""
    options = StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True)
    model_sd = get_model_state_dict(model, options=options)
    optim_sd = get_optimizer_state_dict(model, optimizer, options=options)
    if env.is_main:
        state = {
            "model": model_sd,
            "optimizer": optim_sd,
            "scheduler": scheduler.state_dict(),
            "progress": progress,
            "rng": {"torch": torch.get_rng_state(), "cuda": _cuda_rng()},
        }
        with fsio.atomic_open(path, "wb") as handle:
            torch.save(state, handle)
    barrier(env)


def load_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, env: DistEnv
) -> dict[str, Any]:
    """Restore what :func:`save_state` wrote; returns the saved progress."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    options = StateDictOptions(full_state_dict=True, strict=False, broadcast_from_rank0=env.distributed)
    model_sd = state["model"] if env.is_main or not env.distributed else {}
    set_model_state_dict(model, model_sd, options=options)
    optim_sd = state["optimizer"] if env.is_main or not env.distributed else {}
    set_optimizer_state_dict(model, optimizer, optim_sd, options=options)
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"]["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["rng"]["cuda"])
    return dict(state["progress"])


def _cuda_rng() -> torch.Tensor | None:
    return torch.cuda.get_rng_state() if torch.cuda.is_available() else None


def export_hf(
    model: nn.Module,
    out_dir: Path,
    *,
    base_dir: Path,
    settings: TrainSettings,
    env: DistEnv,
    trainer_state: dict[str, Any],
) -> None:
    """Write an HF folder of the current weights (LoRA merged; adapter kept in ``adapter/``)."""
    full = cast(
        dict[str, torch.Tensor],
        get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)),
    )
    if not env.distributed:
        # On one CPU process these are the live parameters; merging LoRA must not touch them.
        full = {key: value.detach().clone() for key, value in full.items()}
    if env.is_main:
        write_hf_folder(full, out_dir, base_dir=base_dir, settings=settings, trainer_state=trainer_state)
    barrier(env)


def write_hf_folder(
    state_dict: dict[str, torch.Tensor],
    out_dir: Path,
    *,
    base_dir: Path,
    settings: TrainSettings,
    trainer_state: dict[str, Any],
) -> None:
    """Build a fresh model around ``state_dict`` (no copy on the training device) and save it atomically."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(base_dir))
    with torch.device("meta"):
        module: Any = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    if settings.method == "lora":
        from peft import get_peft_model

        module = get_peft_model(module, lora_config(settings))
    module.load_state_dict(state_dict, strict=False, assign=True)
    # assign=True gives the embedding and lm_head separate tensors; re-tie them so the
    # saved model keeps the base model's tying (and its size).
    (module.get_base_model() if settings.method == "lora" else module).tie_weights()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        if settings.method == "lora":
            module.save_pretrained(str(tmp / "adapter"))
            module = module.merge_and_unload()
        module.save_pretrained(str(tmp), safe_serialization=True)
        _tokenizer(str(base_dir)).save_pretrained(str(tmp))
        fsio.write_json(tmp / TRAINER_STATE, trainer_state)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@functools.lru_cache(maxsize=4)
def _tokenizer(base_dir: str) -> Any:
    """Each checkpoint carries the base model's tokenizer; load it once per run."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base_dir)
