"""A small real taxonomy git repo (one knowledge leaf, one skill leaf) made by scripts/sample-taxonomy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def taxonomy(shared_data: Path, tmp_path: Path) -> Path:
    root = tmp_path / "taxonomy"
    subprocess.run(
        [REPO / "scripts" / "sample-taxonomy", root, "--from", shared_data / "taxonomy"],
        check=True,
        capture_output=True,
    )
    return root
