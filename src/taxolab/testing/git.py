"""Real git for tests, with a fixed identity and branch name so no test depends on the user's git config."""

from __future__ import annotations

import subprocess
from pathlib import Path

_FIXED = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]


def run_git(repo: Path, *args: str) -> str:
    """Run ``git ARGS`` in ``repo`` and return its stdout; raises on failure."""
    result = subprocess.run(["git", *_FIXED, *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout
