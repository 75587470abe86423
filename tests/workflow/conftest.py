"""A small real taxonomy git repo (one knowledge leaf, one skill leaf): the packaged quick-start sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.taxonomy.sample import write_sample


@pytest.fixture
def taxonomy(tmp_path: Path) -> Path:
    """``taxolab taxonomy sample``'s repo; its document's commit is put in the document cache (no network)."""
    return write_sample(tmp_path / "taxonomy").taxonomy
