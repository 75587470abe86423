"""CPU flags read from /proc/cpuinfo (a fake file: the reader must be tested for CPUs this machine is not)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from taxolab import cpuinfo
from taxolab.llm import backends
from taxolab.training.model_io import resolve_hardware
from taxolab.training.settings import TrainSettings

XEON = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n\n"
)
OLD_X86 = "processor\t: 0\nmodel name\t: Old\nflags\t\t: fpu sse avx2 avx512f\n\n"


@pytest.fixture
def fake_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str | None], None]]:
    def use(text: str | None) -> None:
        path = tmp_path / ("cpuinfo" if text is not None else "missing")
        if text is not None:
            path.write_text(text, encoding="utf-8")
        monkeypatch.setattr(cpuinfo, "CPUINFO", path)
        monkeypatch.delenv("TAXOLAB_LLAMA_REPACK", raising=False)
        cpuinfo.first_cpu.cache_clear()
        backends.repack_safe.cache_clear()

    yield use
    cpuinfo.first_cpu.cache_clear()
    backends.repack_safe.cache_clear()


def test_flags_of_an_amx_xeon(fake_cpu: Callable[[str | None], None]) -> None:
    fake_cpu(XEON + XEON.replace("processor\t: 0", "processor\t: 1"))
    assert {"amx_bf16", "avx512_bf16", "amx_tile"} <= cpuinfo.cpu_flags()
    assert cpuinfo.first_cpu()["model name"] == "Intel(R) Xeon(R)"  # what `system info` reports
    assert cpuinfo.native_bf16()
    assert not backends.repack_safe()  # ggml's AMX kernels crash there: the same flags reader decides


def test_a_cpu_without_bf16_units_or_without_cpuinfo(fake_cpu: Callable[[str | None], None]) -> None:
    fake_cpu(OLD_X86)
    assert not cpuinfo.native_bf16()
    assert backends.repack_safe()
    fake_cpu(None)  # macOS, a locked-down container: nothing is known
    assert cpuinfo.cpu_flags() == frozenset()
    assert not cpuinfo.native_bf16()


def test_precision_auto_trains_in_bf16_only_on_cpus_with_bf16_units(fake_cpu: Callable[[str | None], None]) -> None:
    """`train.precision: auto` on CPU follows the flags; an explicit precision is kept on any CPU."""
    auto, fp32 = TrainSettings(device="cpu"), TrainSettings(device="cpu", precision="fp32")
    fake_cpu(XEON)
    assert resolve_hardware(auto).autocast_dtype == torch.bfloat16
    assert resolve_hardware(fp32).autocast_dtype is None
    fake_cpu(OLD_X86)  # bf16 would be emulated there, far slower than fp32
    assert resolve_hardware(auto).autocast_dtype is None
    assert resolve_hardware(TrainSettings(device="cpu", precision="bf16")).autocast_dtype == torch.bfloat16
