"""CPU flags and the precision rule that follows them (a fake /proc/cpuinfo: the rule must be tested for CPUs
this machine is not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab import cpuinfo
from taxolab.training.settings import TrainSettings

XEON = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n\n"
)
OLD_X86 = "processor\t: 0\nmodel name\t: Old\nflags\t\t: fpu sse avx2 avx512f\n\n"


@pytest.fixture
def fake_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    def use(text: str | None) -> None:
        path = tmp_path / ("cpuinfo" if text is not None else "missing")
        if text is not None:
            path.write_text(text, encoding="utf-8")
        monkeypatch.setattr(cpuinfo, "CPUINFO", path)
        cpuinfo.cpu_flags.cache_clear()

    yield use
    cpuinfo.cpu_flags.cache_clear()


def test_flags_are_read_from_the_first_cpu(fake_cpu) -> None:  # type: ignore[no-untyped-def]
    fake_cpu(XEON + XEON.replace("processor\t: 0", "processor\t: 1"))
    assert {"amx_bf16", "avx512_bf16", "amx_tile"} <= cpuinfo.cpu_flags()
    assert cpuinfo.native_bf16()


def test_a_cpu_without_bf16_units_or_without_cpuinfo_trains_in_fp32(fake_cpu) -> None:  # type: ignore[no-untyped-def]
    fake_cpu(OLD_X86)
    assert not cpuinfo.native_bf16()
    assert TrainSettings().resolved_precision("cpu") == "fp32"
    fake_cpu(None)  # macOS, a locked-down container: nothing known, the safe choice
    assert cpuinfo.cpu_flags() == frozenset()
    assert TrainSettings().resolved_precision("cpu") == "fp32"


def test_auto_precision_is_bf16_on_gpus_and_on_cpus_with_native_bf16(fake_cpu) -> None:  # type: ignore[no-untyped-def]
    fake_cpu(XEON)
    assert TrainSettings().resolved_precision("cpu") == "bf16"
    assert TrainSettings().resolved_precision("cuda") == "bf16"
    fake_cpu(OLD_X86)
    assert TrainSettings().resolved_precision("cuda") == "bf16"
    assert TrainSettings(precision="bf16").resolved_precision("cpu") == "bf16"  # asked for: honoured
    fake_cpu(XEON)
    assert TrainSettings(precision="fp32").resolved_precision("cpu") == "fp32"
