"""The glibc heap rule for the CPU trainer (taxolab.training.heap): applied only with the memory for it.

glibc's ``mallopt`` is replaced by a recording stand-in where a test checks which
calls were made; the last test calls the real C library of this machine.
"""

from __future__ import annotations

import sys

import pytest

from taxolab.training import heap

GB = 1_000_000_000


class RecordingLibc:
    def __init__(self, result: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.result = result

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.result


def test_thresholds_raised_when_memory_allows() -> None:
    libc = RecordingLibc()
    assert heap.keep_tensors_on_heap(available_bytes=20 * GB, environ={}, libc=libc) == "applied"
    threshold = heap.HEAP_THRESHOLD_MB << 20
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, threshold), (heap.M_TRIM_THRESHOLD, threshold)]


def test_a_small_machine_keeps_glibcs_defaults() -> None:
    libc = RecordingLibc()
    assert heap.keep_tensors_on_heap(available_bytes=8 * GB, environ={}, libc=libc) == "too little memory"
    assert libc.calls == []


@pytest.mark.parametrize(
    "environ",
    [
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"MALLOC_TRIM_THRESHOLD_": "0"},
        {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"},
    ],
)
def test_a_users_own_glibc_setting_wins(environ: dict[str, str]) -> None:
    libc = RecordingLibc()
    assert heap.keep_tensors_on_heap(available_bytes=64 * GB, environ=environ, libc=libc) == "user setting"
    assert libc.calls == []


def test_a_refused_mallopt_or_another_c_library_is_reported_not_raised() -> None:
    assert heap.keep_tensors_on_heap(available_bytes=64 * GB, environ={}, libc=RecordingLibc(0)) == "mallopt failed"
    assert heap.keep_tensors_on_heap(available_bytes=64 * GB, environ={}, libc=object()) == "not glibc"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt exists on Linux only")
def test_the_real_c_library_takes_the_setting() -> None:
    assert heap.keep_tensors_on_heap(available_bytes=64 * GB, environ={}) == "applied"


def test_each_trainer_process_on_the_machine_needs_its_share() -> None:
    """Under torchrun every local process checks at once: 4 processes need 4x the memory."""
    libc = RecordingLibc()
    assert heap.keep_tensors_on_heap(available_bytes=20 * GB, environ={}, libc=libc, processes=4) == "too little memory"
    assert libc.calls == []
    assert heap.keep_tensors_on_heap(available_bytes=50 * GB, environ={}, libc=libc, processes=4) == "applied"
