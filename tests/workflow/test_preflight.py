"""`taxolab run` checks model references and the GPU profile before any stage (QA: failed after generation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.workflow import preflight


def test_unknown_student_fails_in_plan_and_run_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXOLAB_DATA_DIR", str(tmp_path / "data"))
    taxonomy = tmp_path / "taxonomy"
    taxonomy.mkdir()
    for plan in (["--plan"], []):
        code = main(["run", *plan, "--profile", "cpu-small", "--taxonomy-path", str(taxonomy), "--student", "nope"])
        err = capsys.readouterr().err
        assert code == 1, err
        assert "--student 'nope' [config: models.student]" in err and "taxolab model list" in err
        assert "Traceback" not in err
    code = main(["run", "--plan", "--profile", "cpu-small", "--taxonomy-path", str(taxonomy), "--judge", "nope"])
    assert code == 1 and "--judge 'nope'" in capsys.readouterr().err


def test_gpu_profile_without_cuda_fails_run_and_warns_in_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "cuda_available", lambda: False)
    monkeypatch.setenv("TAXOLAB_DATA_DIR", str(tmp_path / "data"))
    code = main(["run", "--profile", "gpu-8", "--taxonomy-path", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "no CUDA GPU found; use --profile cpu-small or auto" in err
    assert preflight.gpu_profile_problem("cpu-small") is None
    assert "no CUDA" in (preflight.gpu_profile_problem("gpu-1") or "")
