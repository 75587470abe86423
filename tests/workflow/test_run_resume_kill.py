"""`taxolab run` killed (SIGKILL) during generation, rerun with only a speed setting changed: it resumes.

The reported fault (issue 13): the rerun with `--set generate.batch_size=8`
failed with "<leaf folder> holds a run with other inputs or settings",
because `data generate` and `taxolab run` kept different lists of the
settings that only change speed. The teacher is the scripted fake server of
the sdg tests (real HTTP on 127.0.0.1); the stages after generation are
stand-ins, since only generation is under test here.
"""

from __future__ import annotations

import importlib.util
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
from taxolab.workflow import run as run_module

from .test_plan import cli_plan
from .test_run_skipping import StandIns

LEAF = "compositional_skills/linguistics/synonyms"
NAME = "compositional_skills_linguistics_synonyms"


def scripted_teacher() -> object:
    """The sdg tests' scripted teacher: it answers every shipped prompt in its format, deterministically."""
    path = Path(__file__).resolve().parents[1] / "sdg" / "conftest.py"
    spec = importlib.util.spec_from_file_location("sdg_scripted_teacher", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scripted


def batches(run_dir: Path) -> list[Path]:
    return list(run_dir.glob("data/leaves/*/*/checkpoints/*/*/batch-*.json"))


def generated(run_dir: Path) -> list[dict[str, object]]:
    (found,) = run_dir.glob(f"data/leaves/{NAME}/*/generated/{NAME}.jsonl")
    return fsio.read_jsonl(found)


@pytest.mark.timeout(300)
def test_run_killed_in_generation_resumes_with_another_batch_size(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    taxonomy = tmp_path / "taxonomy"
    (taxonomy / LEAF).mkdir(parents=True)
    shutil.copy(shared_data / "taxonomy" / LEAF / "qna.yaml", taxonomy / LEAF)
    real_generation = run_module.generate_leaf
    stand = StandIns(monkeypatch)
    monkeypatch.setattr(run_module, "generate_leaf", real_generation)
    with FakeOpenAIServer(scripted_teacher(), latency=0.03) as teacher:  # type: ignore[arg-type]
        common = ["run", "--taxonomy-path", str(taxonomy), "--taxonomy-base", "empty", "--profile", "cpu-small"]
        common += ["--endpoint-urls", teacher.url, "--sdg-scale-factor", "2"]
        common += ["--set", "generate.batch_size=1", "--set", "generate.concurrency=1"]
        assert main([*common, "--output-dir", str(tmp_path / "clean"), "--json"]) == 0
        asked = len(teacher.requests)
        planned = cli_plan(capsys, *common[1:], "--output-dir", str(tmp_path / "planned"))
        (estimate,) = (s["estimate"] for s in planned["stages"] if s["name"] == f"generate:{NAME}")
        # The plan's count is an upper bound (no row dropped); the scripted teacher's answers all pass.
        assert estimate["teacher_requests"] == asked, (estimate, asked)

        killed = tmp_path / "killed"
        process = subprocess.Popen(
            [sys.executable, "-m", "taxolab.cli.main", *common, "--output-dir", str(killed)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while len(batches(killed)) < 4 and time.monotonic() < deadline:
            assert process.poll() is None, "the run ended before it was killed"
            time.sleep(0.05)
        process.kill()
        process.wait()
        finished = len(batches(killed))
        assert 4 <= finished < len(batches(tmp_path / "clean"))

        capsys.readouterr()
        stand.take()
        rerun = [*common, "--output-dir", str(killed), "--set", "generate.batch_size=8", "--json"]
        assert main(rerun) == 0  # before: "holds a run with other inputs or settings"
    out = capsys.readouterr()
    assert "resuming" in out.err and "batch_size=1" in out.err
    (record,) = killed.glob(f"data/leaves/{NAME}/*/generation.json")
    counts = (read_manifest(record.parent) or {})["counts"]["leaves"][NAME]
    assert counts["resumed_batches"] >= finished
    # The same rows as the uninterrupted run, none twice: the resumed part kept the batch size it started with.
    assert generated(killed) == generated(tmp_path / "clean")
    assert stand.take()["mix"] == 1
    # One resume-record type, one file name per kind: the run's and the leaf's never share a name.
    assert (killed / "run.json").is_file() and not list(killed.rglob("manifest.json"))
