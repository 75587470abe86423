"""What this machine's CPU can do, read once from ``/proc/cpuinfo`` (Linux; elsewhere nothing is known)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")

NATIVE_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
"""CPU flags of a bf16 matrix unit (AMX) or bf16 dot-product instructions (AVX-512 BF16)."""


@cache
def first_cpu() -> dict[str, str]:
    """The ``key: value`` fields of the first CPU listed in ``/proc/cpuinfo``; empty where it cannot be read."""
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags() -> frozenset[str]:
    """The feature flags of the first CPU (``flags`` on x86, ``Features`` on Arm); empty where unknown."""
    fields = first_cpu()
    return frozenset((fields.get("flags") or fields.get("Features") or "").split())


def native_bf16() -> bool:
    """Whether the CPU multiplies bf16 matrices in hardware (AMX or AVX-512 BF16).

    Where it does, torch's oneDNN kernels run bf16 matmuls far faster than fp32
    (this project's Xeon, torch 2.13, 2 threads, the default model's projection
    shapes: 1,728 GFLOP/s bf16 against 331 fp32, ``bench/bench_train.py
    --precisions fp32,bf16``); where it does not, bf16 is emulated and slower
    than fp32. ``train.precision: auto`` trains in bf16 autocast where this is
    true (:func:`taxolab.training.model_io.resolve_hardware`), and ``taxolab
    system info`` reports it.
    """
    return bool(cpu_flags() & NATIVE_BF16_FLAGS)
