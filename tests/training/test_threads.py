"""Thread count and OpenMP wait policy for training beside busy processes (logic only; no timing assertions).

The tuner is driven with step durations computed from a throughput model, so the
tests are exact and fast; the real figures come from bench/bench_train_load.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from training_kit import write_messages

from taxolab.openmp_wait import WAIT_SETTINGS
from taxolab.training.api import train
from taxolab.training.metrics import read_metrics
from taxolab.training.settings import TrainSettings
from taxolab.training.threads import TRAINER_WAIT, ThreadTuner, cores_per_process, prefer_bounded_wait

TOKENS = 2048.0


def drive(tuner: ThreadTuner, rate: Callable[[int, int], float], steps: int) -> list[int]:
    """Run ``steps`` steps where a step at ``n`` threads trains at ``rate(n, step)`` tokens/s; the counts used."""
    used = []
    for step in range(steps):
        threads = tuner.next_threads()
        used.append(threads)
        tuner.record(threads, TOKENS, TOKENS / rate(threads, step))
    return used


def idle_two_cores(threads: int, step: int) -> float:
    return {1: 90.0, 2: 147.0}[threads]  # measured shape (threads.py docstring)


def test_idle_machine_keeps_all_cores_after_one_probe() -> None:
    applied: list[int] = []
    tuner = ThreadTuner(2, set_threads=applied.append, probe_every=10)
    used = drive(tuner, idle_two_cores, 25)
    assert used[:4] == [2, 2, 1, 2]  # warm-up, measure, probe the neighbour, measure the current count again
    assert used.count(1) == 2  # one probe per round of 10 steps (and its re-measure)
    assert tuner.current == 2 and tuner.history == []
    assert applied[:3] == [2, 1, 2]  # applied only when the count changes


def test_competitor_arriving_and_leaving() -> None:
    def rate(threads: int, step: int) -> float:
        busy = 10 <= step < 40
        if busy:
            return {1: 99.0, 2: 12.0}[threads]  # a 1-thread competitor: 2 spinning threads collapse
        return idle_two_cores(threads, step)

    tuner = ThreadTuner(2, probe_every=8)
    used = drive(tuner, rate, 60)
    assert used[10] == 2 and used[11] == 1  # the collapse is seen at once, not at the next round
    assert used[12:40].count(2) <= 4  # while busy, 2 threads only in the periodic probes
    assert used[-5:].count(2) >= 4  # the periodic probe finds the cores free again
    assert [n for _, n in tuner.history] == [1, 2]


def test_many_cores_climbs_to_the_fastest_count() -> None:
    def rate(threads: int, step: int) -> float:
        return 100.0 / (1 + 0.1 * abs(threads - 12))  # 4 of 16 cores taken: 12 threads fastest

    tuner = ThreadTuner(16, probe_every=50)
    used = drive(tuner, rate, 12)
    assert tuner.current == 12
    assert used[:9] == [16, 16, 15, 16, 14, 13, 12, 11, 12]  # one step per count on the way down


def test_short_or_single_core_steps_leave_the_count_alone() -> None:
    tuner = ThreadTuner(2, min_seconds=0.2)
    for _ in range(10):
        tuner.record(tuner.next_threads(), 100.0, 0.01)  # a tiny model: timing is noise
    assert tuner.current == 2 and tuner.history == []
    assert drive(ThreadTuner(1), idle_two_cores, 5) == [1] * 5
    assert ThreadTuner(0).max_threads == 1


def test_one_slow_step_does_not_move_an_idle_machine_off_its_cores() -> None:
    """The chickadee run: the second step (still warming up) ran at 70 tokens/s on 2 threads, 1 thread then
    measured 94 and won; every later 2-thread step ran ~170. The round measures 2 threads again first."""
    slow = {1: 70.0}  # step -> the 2-thread rate of that step

    def rate(threads: int, step: int) -> float:
        return {1: 94.0, 2: slow.get(step, 170.0)}[threads]

    tuner = ThreadTuner(2, probe_every=30)
    used = drive(tuner, rate, 40)
    assert used.count(1) == 2 and tuner.history == []  # the probes, and never a move
    slow.update({40 + step: 70.0 for step in range(40)})  # a real slowdown: every 2-thread step slow
    used = drive(tuner, lambda n, step: rate(n, step + 40), 10)
    assert tuner.current == 1 and used[-3:] == [1, 1, 1]


def test_margin_keeps_the_current_count_on_a_near_tie() -> None:
    tuner = ThreadTuner(2, probe_every=5, margin=1.05)
    drive(tuner, lambda n, step: {1: 100.0, 2: 97.0}[n], 12)  # 1 thread only 3% faster: not worth a switch
    assert tuner.current == 2


def test_tuner_sets_torch_threads() -> None:
    before = torch.get_num_threads()
    try:
        tuner = ThreadTuner(2, set_threads=torch.set_num_threads)
        drive(tuner, lambda n, step: {1: 99.0, 2: 12.0}[n], 5)  # warm-up, measure, probe, re-measure, apply
        assert tuner.current == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_bounded_wait_is_a_default_not_an_override() -> None:
    env: dict[str, str] = {}
    prefer_bounded_wait(env)
    assert env == {"GOMP_SPINCOUNT": str(TRAINER_WAIT.spin_count), "KMP_BLOCKTIME": str(TRAINER_WAIT.block_time_ms)}
    for name, value in (("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "0"), ("KMP_BLOCKTIME", "200")):
        mine = {name: value}
        prefer_bounded_wait(mine)
        assert mine == {name: value}


LOAD_TORCH = """
import os, sys
from taxolab.cli.main import main
assert "torch" not in sys.modules
main(["--version"])  # the entry point arms the hook; torch is not loaded by it
import torch
print("after torch:", os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT"))
"""


@pytest.mark.parametrize(("user", "bounded", "left"), [(None, True, "None None"), ("ACTIVE", False, "ACTIVE None")])
def test_cli_bounds_torchs_spin_without_leaving_the_variables(user: str | None, bounded: bool, left: str) -> None:
    """libgomp reads the variables when torch loads it; OMP_DISPLAY_ENV makes libgomp print what it took.

    The bound shows as taxolab's spin count (libgomp's default: 300000, ACTIVE: 30 billion); the variables
    are gone again afterwards, so llama.cpp servers started later get their own bound; a user's value stays.
    """
    env = {k: v for k, v in os.environ.items() if k not in WAIT_SETTINGS}
    env["OMP_DISPLAY_ENV"] = "VERBOSE"
    if user:
        env["OMP_WAIT_POLICY"] = user
    out = subprocess.run([sys.executable, "-c", LOAD_TORCH], capture_output=True, text=True, env=env, check=True)
    assert (f"GOMP_SPINCOUNT = '{TRAINER_WAIT.spin_count}'" in out.stderr) is bounded
    assert out.stdout.strip().splitlines()[-1] == f"after torch: {left}"


def test_threads_setting_words() -> None:
    assert TrainSettings().threads == TrainSettings.model_validate({"threads": "auto"}).threads == "auto"
    assert TrainSettings.model_validate({"threads": "3"}).threads == 3
    for bad in (0, "x", True):
        with pytest.raises(ValidationError, match="number of threads \\(1 or more\\) or `auto`"):
            TrainSettings.model_validate({"threads": bad})
    assert cores_per_process(1) >= cores_per_process(64) == 1


def test_metrics_record_the_threads_of_each_step(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = write_messages(tmp_path / "mix.jsonl", 8, seed=1)
    before = torch.get_num_threads()
    try:
        settings = TrainSettings(effective_batch_size=4, validation_split=0.0, max_batch_len=128, threads=1)
        result = train(data, model_path=tiny_model_dir, output_dir=tmp_path / "out", settings=settings,
                       show_progress=False)  # fmt: skip
    finally:
        torch.set_num_threads(before)
    rows = read_metrics(result.phases[0].metrics_file)
    assert [r["threads"] for r in rows] == [1, 1]
