"""Child processes that must not outlive taxolab: model servers.

A model server holds gigabytes of memory and a port. If taxolab is killed,
interrupted or crashes, the server must go too, so every child is started:

- in its own process group, so Ctrl-C reaches only taxolab, which then stops
  the server in order (SIGTERM, then SIGKILL), and so helpers a server spawns
  (vLLM's engine processes) are stopped with it;
- with ``PR_SET_PDEATHSIG`` on Linux, so the kernel kills it when taxolab dies
  without running any cleanup (SIGKILL, OOM killer);
- registered for ``atexit``, for a normal interpreter exit with servers left open.

Output goes to a log file; when a server fails to start, its last log lines
are what the user needs to see.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_live: weakref.WeakSet[ChildProcess] = weakref.WeakSet()
_live_lock = threading.Lock()


class ChildProcess:
    """A started child in its own process group, with its log file."""

    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.popen = popen
        self.log_path = log_path
        with _live_lock:
            _live.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM the whole group, wait ``grace`` seconds, then SIGKILL it; returns the exit code.

        Safe to call twice and after the child has exited on its own.
        """
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=30)
        # Helpers of the server may still hold the group; they die with the leader's group.
        _signal_group(self.popen.pid, signal.SIGKILL)
        with _live_lock:
            _live.discard(self)
        return self.popen.returncode

    def log_tail(self, lines: int = 8) -> str:
        """The last non-empty lines of the log, joined with `` | `` to fit one error line."""
        return tail_lines(self.log_path, lines)


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildProcess:
    """Start ``argv`` in its own process group, tied to this process's life, logging to ``log_path``.

    The parent-death signal is tied to the *thread* that forks (a Linux rule), so
    long-lived servers should be started from the main thread or a thread that
    outlives them.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ if env is None else env)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
            # The hook only makes one libc call (no locks, no allocation-heavy Python),
            # which is what makes preexec_fn safe enough even with threads running.
            preexec_fn=_die_with_parent_hook(),  # noqa: PLW1509
        )
    return ChildProcess(popen, log_path)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the caller retries if another process takes it first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tail_lines(path: Path, lines: int = 8) -> str:
    """Last ``lines`` non-empty lines of a text file, joined by `` | `` (empty if unreadable)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def stop_all() -> None:
    """Stop every child still running (atexit hook; also usable by signal handlers)."""
    with _live_lock:
        children = list(_live)
    for child in children:
        with contextlib.suppress(Exception):
            child.stop(grace=5.0)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel to SIGTERM the child when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)

    return hook


atexit.register(stop_all)
