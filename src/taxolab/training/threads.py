"""CPU threads for training beside other busy processes: OpenMP wait policy and a measured thread count.

PyTorch's intra-op pool (OpenMP, one thread per core by default) meets at a
barrier after every operator. On a machine where another process takes a core,
two things go wrong, measured with the default model (full fp32 fine-tune, rows
of 512 tokens) on 2 cores of a quiet 16-core machine (``taskset -c 0,1``),
beside a 1-thread torch matmul loop on the same 2 cores (2026-12-04):

=============================================  ============  =================
trainer                                        idle tok/s    beside competitor
=============================================  ============  =================
2 threads, OpenMP default wait (spin)          147           12 (0.08 of idle)
2 threads, ``OMP_WAIT_POLICY=PASSIVE``         154           84 (0.57)
1 thread, default wait                         90            99 (0.67)
=============================================  ============  =================

* With the default policy a thread that reaches the barrier first spins for its
  whole time slice, taking the core its sibling (or the competitor) needs:
  throughput falls 12x. ``PASSIVE`` (sleep at once) removes that collapse, but
  in bf16 autocast (many short operators: weight casts, norms) every wake-up
  shows: a bounded spin of 10,000 loops (:data:`TRAINER_WAIT`, microseconds)
  is as safe beside a competitor and faster idle. ``bench/bench_train_load.py
  --quick --trial-seconds 50``, this project's 2-core Xeon (AMX), bf16, 2026-12-05:

  ===================================  ============  =================
  trainer                              idle tok/s    beside competitor
  ===================================  ============  =================
  2 threads, default wait (300k spin)  248           23 (0.09)
  auto threads, ``PASSIVE``            215           169 (0.79)
  auto threads, 10k spin (taxolab)     274           166 (0.61)
  ===================================  ============  =================

  On 120 samples of the chickadee knowledge mix (2 threads, alternating runs)
  ``PASSIVE`` trained at 186-212 tokens/s, the 10k spin at 253-278, libgomp's
  default at 242-287. libgomp reads the bound only when it is loaded, so it
  must be in the environment before ``import torch``: the CLI entry point
  calls :func:`bounded_wait_for_torch` (set only while torch loads, so
  llama.cpp servers started later get their own bound, see
  ``taxolab.llm.backends``), the torchrun launcher :func:`prefer_bounded_wait`;
  a user's own ``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT`` or ``KMP_BLOCKTIME`` is kept.
* Fewer threads than cores is faster still beside a competitor, and 1.6x slower
  on an idle machine, so no fixed count is right: :class:`ThreadTuner` times
  training steps at the current count and its neighbours and keeps the fastest
  (``train.threads: auto``), probing again every ``probe_every`` steps and at
  once when a step runs at under ``drop`` of the rate the count was chosen at.
  A 2-thread competitor did not collapse a 2-thread trainer (97 tok/s), and
  1 thread was about as fast (105). On an idle 2-core machine the probes cost
  one step at 0.61 of the speed every 30 steps: about 2%.

Reproduce with ``python bench/bench_train_load.py`` (idle vs beside a competitor,
old vs new, ratios printed).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from taxolab.openmp_wait import BoundedWait

TRAINER_WAIT = BoundedWait(spin_count=10_000, block_time_ms=1)
"""How torch's OpenMP threads wait in taxolab's processes (the module docstring gives the measurements)."""


def prefer_bounded_wait(environ: MutableMapping[str, str] | None = None) -> None:
    """Put :data:`TRAINER_WAIT` in ``environ`` (default ``os.environ``) unless the user set a wait setting.

    Has an effect only on processes that load torch (libgomp) afterwards: call it
    before the first ``import torch``, or for the environment of a child process.
    """
    env = os.environ if environ is None else environ
    env.update(TRAINER_WAIT.env(env))


def cores_per_process(processes: int = 1) -> int:
    """Cores this process may run on (its CPU affinity, so ``taskset`` counts), shared by ``processes``; >= 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, processes))


class _BoundedWhileTorchLoads(importlib.abc.MetaPathFinder):
    """Puts :data:`TRAINER_WAIT` in the environment when ``torch`` starts importing, and takes it out
    again at the first import after ``torch._C`` (whose load initialised libgomp). Finds nothing itself."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "torch" and "torch" not in sys.modules:
            os.environ.update(self.variables)
        elif "torch._C" in sys.modules:
            for name in self.variables:
                os.environ.pop(name, None)
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(self)


def bounded_wait_for_torch() -> None:
    """Make torch's OpenMP threads in this process spin only briefly, without leaving the variables set.

    For a process that has not imported torch yet and whose user set none of
    :data:`taxolab.openmp_wait.WAIT_SETTINGS`; otherwise does nothing. Child
    processes started after torch has loaded do not inherit the variables
    (llama.cpp servers get their own bound from ``taxolab.llm.backends``).
    """
    variables = TRAINER_WAIT.env()
    if "torch" in sys.modules or not variables:
        return
    if not any(isinstance(finder, _BoundedWhileTorchLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BoundedWhileTorchLoads(variables))


@dataclass
class ThreadTuner:
    """Chooses the intra-op thread count per training step by measured throughput (hill climbing).

    Use: ``n = tuner.next_threads()`` before a step (the count is applied through
    ``set_threads``), then ``tuner.record(n, tokens, seconds)`` after it. Rates are
    trained tokens per second of one optimizer step. The first step is a warm-up
    (allocations, kernel choice) and is not compared. A probe round measures the
    current count's neighbours (``n - 1``, ``n + 1`` within ``1..max_threads``)
    one step each, then the current count once more, and moves to the fastest
    if it beats the current count's better step by ``margin``: the step that
    started the round may have been slow for its own reasons (steps after the
    first still warm up; a step of long packed rows trains 0.65x the tokens/s
    of one of short rows), and the chickadee run's tuner, comparing against
    that one step, went from 2 threads (~170 tokens/s) to 1 (~85) for 30 steps
    on an idle machine. After a move it keeps climbing in that direction. Steps shorter
    than ``min_seconds`` are too noisy to compare and leave the count alone
    (tiny test models). Raises nothing; ``max_threads`` < 1 is treated as 1.
    """

    max_threads: int
    set_threads: Callable[[int], None] | None = None
    probe_every: int = 30
    drop: float = 0.5
    margin: float = 1.05
    min_seconds: float = 0.2
    current: int = 0
    history: list[tuple[int, int]] = field(default_factory=list)
    """(step index, thread count) at every change, for the metrics and tests."""
    _steps: int = 0
    _since_round: int = 0
    _chosen_rate: float | None = None
    _round: dict[int, float] = field(default_factory=dict)
    _queue: list[int] = field(default_factory=list)
    _applied: int = 0

    def __post_init__(self) -> None:
        self.max_threads = max(1, self.max_threads)
        self.current = self.current or self.max_threads

    def next_threads(self) -> int:
        """The thread count for the next step (applied before returning)."""
        threads = self._queue[0] if self._queue else self.current
        if threads != self._applied:
            if self.set_threads is not None:
                self.set_threads(threads)
            self._applied = threads
        return threads

    def record(self, threads: int, tokens: float, seconds: float) -> None:
        """Account one finished step that ran at ``threads`` and trained ``tokens`` in ``seconds``."""
        self._steps += 1
        if self._steps == 1 or seconds < self.min_seconds or tokens <= 0 or self.max_threads == 1:
            return
        rate = tokens / seconds
        if self._queue and threads == self._queue[0]:
            self._queue.pop(0)
            self._round[threads] = max(rate, self._round.get(threads, 0.0))
            if not self._queue:
                self._finish_round()
            return
        if threads != self.current:
            return
        self._since_round += 1
        collapsed = self._chosen_rate is not None and rate < self.drop * self._chosen_rate
        if self._chosen_rate is None or collapsed or self._since_round >= self.probe_every:
            self._round = {threads: rate}
            self._queue = self._neighbours(threads)
            if not self._queue:
                self._finish_round()
            else:  # the current count once more: one slow step (warm-up, a long row) is not its rate
                self._queue.append(threads)

    def _neighbours(self, threads: int) -> list[int]:
        return [n for n in (threads - 1, threads + 1) if 1 <= n <= self.max_threads and n not in self._round]

    def _finish_round(self) -> None:
        base = self._round[self.current]
        best = max(self._round, key=lambda n: self._round[n])
        if best != self.current and self._round[best] >= self.margin * base:
            self.current = best
            self.history.append((self._steps, best))
            onward = [n for n in self._neighbours(best) if (n - best) * (best - self._previous(best)) > 0]
            if onward:  # keep climbing the same way
                self._queue = onward
                return
        self._chosen_rate = self._round[self.current]
        self._round = {}
        self._since_round = 0

    def _previous(self, best: int) -> int:
        """The count the climb came from (the other measured count nearest to ``best``)."""
        others = [n for n in self._round if n != best]
        return min(others, key=lambda n: abs(n - best)) if others else best
