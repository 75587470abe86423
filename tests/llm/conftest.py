"""Every test here must leave no server behind, even when it fails."""

from __future__ import annotations

from collections.abc import Iterator

import psutil
import pytest


@pytest.fixture(autouse=True)
def no_orphan_servers() -> Iterator[None]:
    """Fail the test if a child process it started (a model server) is still alive after it."""
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    yield
    leftovers = [child for child in me.children(recursive=True) if child.pid not in before]
    _, alive = psutil.wait_procs(leftovers, timeout=10)
    for child in alive:  # clean up so one failure does not cascade, then report it
        child.kill()
    assert not alive, f"processes left running: {[(p.pid, p.name()) for p in alive]}"
