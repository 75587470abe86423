"""Entry point of one torchrun rank: ``python -m taxolab.training.worker PHASE_SPEC.json``.

Internal: ``taxolab model train`` starts it through torchrun. User errors end
the rank with one line, like the CLI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch.distributed as dist

from taxolab.console import stderr
from taxolab.errors import TaxolabError
from taxolab.training.trainer import PhaseSpec, run_phase


def main(argv: list[str]) -> int:
    spec = PhaseSpec.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    try:
        run_phase(spec)
    except TaxolabError as exc:
        stderr.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        return exc.exit_code
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
