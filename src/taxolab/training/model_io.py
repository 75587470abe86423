"""Load the student for training: device, precision, attention kernel, LoRA, checkpointing.

Choices follow the hardware: fp32 on CPU (bf16 matmul there is ~300x slower on
CPUs without AVX-512 BF16), bf16 autocast over fp32 master weights on GPU;
flash-attn's variable-length kernel on GPU when installed (transformers feeds it
the packed ``position_ids``), SDPA otherwise, which builds the block-diagonal
causal mask from restarting ``position_ids`` (proved in tests/training).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from taxolab.errors import TaxolabError
from taxolab.training.settings import TrainSettings


@dataclass(frozen=True)
class Hardware:
    device_type: str
    autocast_dtype: torch.dtype | None
    attention: str


def resolve_hardware(settings: TrainSettings) -> Hardware:
    """Device, autocast dtype and attention kernel for these settings on this machine."""
    device_type = settings.device
    if device_type == "auto":
        device_type = "cuda" if torch.cuda.is_available() else "cpu"
    if device_type == "cuda" and not torch.cuda.is_available():
        raise TaxolabError("--device cuda: no CUDA GPU is visible to torch on this machine")
    precision = settings.precision
    if precision == "auto":
        precision = "bf16" if device_type == "cuda" else "fp32"
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
