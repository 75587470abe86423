"""Run git as a subprocess: the one way taxolab talks to git (taxonomy diffs, document repos).

git itself is the reference implementation of everything we ask of it (merge
bases, bundles, mirrors, credentials), so we call the real binary instead of a
library, with prompts disabled so a missing credential fails instead of hanging.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from taxolab.errors import TaxolabError


class GitError(TaxolabError):
    """A git command failed; ``stderr`` keeps git's own words."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_ASKPASS": "", "SSH_ASKPASS": ""})
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def run_git(*args: str, cwd: Path | None = None, timeout: float = 300) -> str:
    """``git args...`` in ``cwd``; stdout on success, :class:`GitError` (git's last stderr line) on failure."""
    return run_git_bytes(*args, cwd=cwd, timeout=timeout).decode("utf-8", "replace")


def run_git_bytes(*args: str, cwd: Path | None = None, timeout: float = 300) -> bytes:
    """Like :func:`run_git`, for binary output (``git archive``)."""
    if shutil.which("git") is None:
        raise TaxolabError("git is not installed; install git to diff taxonomies and fetch documents")
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f} s") from None
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {args[0]} failed: {last_line(stderr)}", stderr)
    return result.stdout


def last_line(text: str) -> str:
    """git's most telling line: the last non-empty one, ``fatal:``/``error:`` prefix dropped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    line = lines[-1]
    for prefix in ("fatal: ", "error: "):
        line = line.removeprefix(prefix)
    return line
