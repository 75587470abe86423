"""Kill `taxolab data generate` mid-run (SIGKILL, no cleanup), rerun it: same rows as a clean run, none twice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taxolab import fsio
from taxolab.cli.main import main
from taxolab.sdg.runs import read_manifest
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import scripted


def rows(folder: Path) -> list[dict[str, object]]:
    return fsio.read_jsonl(folder / "generated" / "compositional_skills_linguistics_synonyms.jsonl")


def test_killed_process_resumes_without_loss_or_duplicates(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf = tmp_path / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms"
    leaf.mkdir(parents=True)
    shutil.copy(shared_data / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms" / "qna.yaml", leaf)
    with FakeOpenAIServer(scripted, latency=0.03) as teacher:
        common = ["data", "generate", "--taxonomy-path", str(tmp_path / "taxonomy"), "--taxonomy-base", "empty"]
        common += ["--endpoint-url", teacher.url, "--sdg-scale-factor", "2", "--batch-size", "1", "--concurrency", "1"]
        assert main([*common, "--output-dir", str(tmp_path / "clean"), "--json"]) == 0

        killed = tmp_path / "killed"
        process = subprocess.Popen(
            [sys.executable, "-m", "taxolab.cli.main", *common, "--output-dir", str(killed)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(list(killed.glob("checkpoints/*/*/batch-*.json"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()
        process.wait()
        finished = len(list(killed.glob("checkpoints/*/*/batch-*.json")))
        assert 4 <= finished < 12
        assert (read_manifest(killed) or {})["status"] == "running"

        capsys.readouterr()
        assert main([*common, "--output-dir", str(killed), "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["counts"]["leaves"]["compositional_skills_linguistics_synonyms"]["resumed_batches"] >= 4
    assert rows(killed) == rows(tmp_path / "clean")
    keys = [json.dumps(row, sort_keys=True) for row in rows(killed)]
    assert len(keys) == len(set(keys)) == 12
