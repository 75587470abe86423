"""How OpenMP worker threads wait at a barrier: the one rule for torch (training) and ggml (llama.cpp servers).

Both run every operator as an OpenMP parallel region that ends at a barrier.
A worker that arrives first either spins (fast when its siblings are running,
a whole core burnt when one of them has lost its core to another process or
has nothing left to do) or sleeps (no burnt core, but every wake-up costs
micro- to milliseconds per operator). taxolab bounds the spin: each process
kind gets its own bound, measured where it is defined
(:data:`taxolab.llm.backends.SERVER_WAIT`,
:data:`taxolab.training.threads.TRAINER_WAIT`). The OpenMP runtime reads these
variables once, when it is loaded, so they must be in a process's environment
before it loads libgomp.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
"""The OpenMP runtimes' wait settings; when the user sets any of them, taxolab sets none."""


@dataclass(frozen=True)
class BoundedWait:
    """A spin bound for both OpenMP runtimes.

    ``spin_count``: GNU OpenMP's ``GOMP_SPINCOUNT``, busy-wait loops before a
    waiting worker sleeps (its own default is 300,000; ``OMP_WAIT_POLICY=ACTIVE``
    means 30 billion, ``PASSIVE`` means 0). ``block_time_ms``: LLVM / Intel
    OpenMP's ``KMP_BLOCKTIME``, the same bound in milliseconds (not measured
    here: torch and llama.cpp on this project's machines load GNU OpenMP).
    """

    spin_count: int
    block_time_ms: int

    def env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The variables to set, or ``{}`` when ``environ`` (default ``os.environ``) already sets any wait setting."""
        current = os.environ if environ is None else environ
        if any(name in current for name in WAIT_SETTINGS):
            return {}
        return {"GOMP_SPINCOUNT": str(self.spin_count), "KMP_BLOCKTIME": str(self.block_time_ms)}
