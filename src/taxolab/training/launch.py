"""Start a phase on several processes with torchrun and wait for it.

The parent writes the phase spec to a file and runs
``python -m torch.distributed.run ... -m taxolab.training.worker SPEC`` so that
each rank gets torch.distributed's environment; every node of a multi-node job
runs the same ``taxolab model train`` with its own ``--node-rank``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from taxolab import fsio
from taxolab.errors import TaxolabError
from taxolab.training.settings import TrainSettings
from taxolab.training.threads import cores_per_process, prefer_bounded_wait
from taxolab.training.trainer import RESULT_FILE, PhaseOutcome, PhaseSpec


def world_size(settings: TrainSettings) -> int:
    return settings.nproc_per_node * settings.nnodes


def torchrun_command(settings: TrainSettings, spec_file: Path, run_id: str) -> list[str]:
    """The torchrun command line for these settings (standalone rendezvous on one node)."""
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={settings.nproc_per_node}"]
    if settings.nnodes == 1 and settings.rdzv_endpoint is None:
        command.append("--standalone")
    else:
        if settings.rdzv_endpoint is None:
            raise TaxolabError("--nnodes > 1 needs --rdzv-endpoint HOST:PORT of node 0")
        command += [
            f"--nnodes={settings.nnodes}",
            f"--node-rank={settings.node_rank}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={settings.rdzv_endpoint}",
            f"--rdzv-id={run_id}",
        ]
    return [*command, "-m", "taxolab.training.worker", str(spec_file)]


def run_distributed(spec: PhaseSpec, run_id: str) -> PhaseOutcome:
    """Run ``spec`` under torchrun; returns the outcome rank 0 wrote."""
    spec_file = spec.out_dir / "phase_spec.json"
    fsio.write_json(spec_file, spec.to_json())
    settings = spec.settings
    threads = settings.threads if isinstance(settings.threads, int) else cores_per_process(settings.nproc_per_node)
    environ = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    prefer_bounded_wait(environ)
    result = subprocess.run(torchrun_command(settings, spec_file, run_id), check=False, env=environ)
    if result.returncode != 0:
        raise TaxolabError(f"training workers failed (exit {result.returncode}); their messages are above")
    result_file = spec.out_dir / RESULT_FILE
    if not result_file.exists():
        raise TaxolabError(f"{result_file}: the workers finished without writing a result")
    return PhaseOutcome.from_json(json.loads(result_file.read_text(encoding="utf-8")))
