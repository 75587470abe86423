"""A checkpoint that cannot be written (full disk) is one located error and never looks finished.

The full disk is real per process: ``RLIMIT_FSIZE`` (``ulimit -f``) in a
subprocess that ignores SIGXFSZ, so safetensors' write fails with errno 27.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path


def test_a_checkpoint_past_the_disk_limit_is_named_and_left_unfinished(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "checkpoints" / "epoch_1"
    weights = tiny_model_dir / "model.safetensors"
    limit = weights.stat().st_size // 2

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    code = f"""
        from pathlib import Path
        from safetensors.torch import load_file
        from taxolab import fsio
        from taxolab.training.checkpoint import write_hf_folder
        from taxolab.training.settings import TrainSettings
        state = load_file({str(weights)!r})
        try:
            write_hf_folder(
                state, Path({str(out)!r}), base_dir=Path({str(tiny_model_dir)!r}), settings=TrainSettings(),
                trainer_state={{"step": 1}},
            )
        except fsio.WriteError as exc:
            print(exc)
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        preexec_fn=full_disk,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"cannot write {out}: file too large"), done.stdout + done.stderr
    assert "free space or use another --output-dir, then rerun the same command to resume" in done.stdout
    assert list(out.parent.iterdir()) == []  # no folder, hidden or not, that could pass for a checkpoint
