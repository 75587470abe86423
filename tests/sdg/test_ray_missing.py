"""Without the optional Ray extra, `data generate --executor ray` says how to install it.

Ray is made unimportable for this test (it may be installed in the venv).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.testing.fake_openai import FakeOpenAIServer


def test_executor_ray_without_ray_says_how_to_install(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    leaf = Path("compositional_skills/linguistics/synonyms")
    shutil.copytree(shared_data / "taxonomy" / leaf, tmp_path / "taxonomy" / leaf)
    with FakeOpenAIServer() as teacher:
        code = main(
            [
                "data",
                "generate",
                "--executor",
                "ray",
                "--endpoint-url",
                teacher.url,
                "--taxonomy-path",
                str(tmp_path / "taxonomy"),
                "--taxonomy-base",
                "empty",
                "--output-dir",
                str(tmp_path / "out"),
            ]
        )
    err = capsys.readouterr().err
    assert code == 1
    assert "pip install 'taxolab[ray]'" in err
    assert "Traceback" not in err
