"""QA: rerunning `data generate` with identical inputs made a second run and repeated every teacher request."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.sdg.generate import generate_data
from taxolab.sdg.runs import choose_run_folder
from taxolab.taxonomy.model import Leaf
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import config_for


def test_identical_rerun_reuses_the_finished_run_without_requests(
    leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(teacher.url, tmp_path)
    first = generate_data(config, leaves=leaves[1:], show_progress=False)
    before = len(teacher.requests)
    capsys.readouterr()
    second = generate_data(config, leaves=leaves[1:], show_progress=False)
    assert second.output_dir == first.output_dir
    assert len(teacher.requests) == before
    assert f"reusing finished run {first.output_dir}" in capsys.readouterr().err
    datasets = first.output_dir.parent
    assert [p for p in datasets.iterdir() if p.is_dir()] == [first.output_dir]
    # other settings still get a fresh folder
    assert choose_run_folder(datasets, None, "another-fingerprint", resume=False) != first.output_dir
