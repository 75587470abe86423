"""Load the student for training: device, precision, attention kernel, LoRA, checkpointing.

Choices follow the hardware: bf16 autocast over fp32 master weights on GPU and
on CPUs with bf16 matrix instructions, fp32 on other CPUs (bf16 matmul there is
emulated, ~300x slower; :func:`resolve_hardware` gives the measurements);
flash-attn's variable-length kernel on GPU when installed (transformers feeds it
the packed ``position_ids``), SDPA otherwise, which builds the block-diagonal
causal mask from restarting ``position_ids`` (proved in tests/training), or takes
the explicit mask of a row whose samples share their opening (:func:`shares_prefix`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from taxolab.cpuinfo import native_bf16
from taxolab.errors import TaxolabError
from taxolab.training.settings import TrainSettings


@dataclass(frozen=True)
class Hardware:
    device_type: str
    autocast_dtype: torch.dtype | None
    attention: str


def resolve_hardware(settings: TrainSettings) -> Hardware:
    """Device, autocast dtype and attention kernel for these settings on this machine.

    ``precision: auto`` is bf16 autocast (fp32 master weights, fp32 optimizer)
    on CUDA and on CPUs with bf16 matrix instructions (AVX-512 BF16 or AMX,
    :func:`taxolab.cpuinfo.native_bf16`), fp32 elsewhere. Measured on this
    project's 2-core AMD EPYC (AVX-512 BF16, torch 2.13, 2 threads,
    2026-12-05): bf16 matmul 2.2-2.7x fp32 on the default model's shapes;
    the trainer on the first 96 samples of a real knowledge mix 1.42-1.52x
    the tokens/s of fp32 (alternating rounds, same data), on a whole mix
    over two epochs 1.2-1.45x; and the bench's paired retrain of the lapis
    lazuli leaf answered 14/20 hand-written questions in bf16 as in fp32
    (docs/train.md, "CPU defaults"). Raises :class:`TaxolabError` for
    ``device: cuda`` where torch sees no GPU.
    """
    device_type = settings.device
    if device_type == "auto":
        device_type = "cuda" if torch.cuda.is_available() else "cpu"
    if device_type == "cuda" and not torch.cuda.is_available():
        raise TaxolabError("--device cuda: no CUDA GPU is visible to torch on this machine")
    precision = settings.precision
    if precision == "auto":
        precision = "bf16" if device_type == "cuda" or native_bf16() else "fp32"
    attention = settings.attention
    if attention == "auto":
        has_flash = importlib.util.find_spec("flash_attn") is not None
        attention = "flash_attention_2" if device_type == "cuda" and has_flash else "sdpa"
    return Hardware(device_type, torch.bfloat16 if precision == "bf16" else None, attention)


def default_max_batch_len(settings: TrainSettings, hardware: Hardware) -> int:
    """Tokens per packed forward pass: short rows on CPU, long ones where a varlen kernel exists.

    On CPU the block-diagonal mask still costs attention over the whole row, so
    long packed rows are slower than short ones (docs/train.md, "CPU defaults": rows of 1,024 tokens
    2.2x faster than padded batches, 2,048 only 1.65x); 512 keeps the wasted
    attention small while matrix products stay large (re-measure with
    ``bench/bench_train.py --row-lens``). A longer sample gets a row of its own.
    """
    if settings.max_batch_len is not None:
        return settings.max_batch_len
    return 512 if hardware.device_type == "cpu" else 16384


def shares_prefix(settings: TrainSettings, hardware: Hardware) -> bool:
    """Whether packed rows keep samples' common untrained opening once (``train.shared_prefix``).

    Only under SDPA, which takes the explicit mask such a row needs; flash-attn's varlen
    kernel reads ``position_ids`` alone and eager attention adds a float mask.
    (:func:`taxolab.training.packing.collate_row` gives the measurement.)
    """
    return settings.shared_prefix and hardware.attention == "sdpa"


def load_model(model_dir: Path, settings: TrainSettings, hardware: Hardware) -> nn.Module:
    """The model in fp32 (master weights), with LoRA adapters when asked; not yet on its device."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own bar is the one to watch
    model: Any
    try:
        model = AutoModelForCausalLM.from_pretrained(
            str(model_dir), dtype=torch.float32, attn_implementation=hardware.attention
        )
    except (OSError, ValueError) as exc:
        raise TaxolabError(f"{model_dir}: cannot load the student model: {exc}") from None
    model.config.use_cache = False
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if settings.method == "lora":
        model = add_lora(model, settings)
    return cast(nn.Module, model)  # from_pretrained is typed as returning Any


def lora_config(settings: TrainSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.lora_target_modules),
        task_type="CAUSAL_LM",
    )


def add_lora(model: Any, settings: TrainSettings) -> nn.Module:
    from peft import get_peft_model

    if settings.gradient_checkpointing:
        model.enable_input_require_grads()
    return cast(nn.Module, get_peft_model(model, lora_config(settings)))  # a PeftModel; peft's signature is loose
