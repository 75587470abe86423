"""The stage runner, manifest and hashes: what is skipped, what reruns, what survives a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taxolab.hashing import hash_files, hash_json
from taxolab.workflow.manifest import RunManifest
from taxolab.workflow.stages import PendingInputsError, Stage, StageRunner


def test_hash_json_ignores_key_order_but_not_values() -> None:
    assert hash_json({"a": 1, "b": [1, 2]}) == hash_json({"b": [1, 2], "a": 1})
    assert hash_json({"a": 1}) != hash_json({"a": 2})


def test_hash_files_covers_names_and_bytes_not_order(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    one, two = tmp_path / "d" / "one.txt", tmp_path / "two.txt"
    one.write_text("1")
    two.write_text("2")
    first = hash_files([tmp_path / "d", two], root=tmp_path)
    assert first == hash_files([two, tmp_path / "d"], root=tmp_path)
    one.write_text("changed")
    assert hash_files([tmp_path / "d", two], root=tmp_path) != first
    one.write_text("1")
    one.rename(tmp_path / "d" / "renamed.txt")
    assert hash_files([tmp_path / "d", two], root=tmp_path) != first


def run_stages(stages: list[Stage], manifest: RunManifest, *, echo: bool = False) -> None:
    StageRunner(manifest, echo=echo).walk(stages)


class Calls:
    """Stand-in stage bodies that count their runs and write one output file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs: list[str] = []

    def stage(self, name: str, inputs: Any, *, fail: bool = False, always: bool = False) -> Stage:
        def run() -> dict[str, Any]:
            self.runs.append(name)
            if fail:
                raise RuntimeError(f"{name} crashed")
            out = self.folder / f"{name}.out"
            out.write_text(repr(inputs))
            return {"paths": [str(out)]}

        return Stage(name, name, lambda: inputs, run, always=always)


def test_unchanged_stages_are_skipped_and_changed_ones_rerun(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    manifest = RunManifest.load(tmp_path)
    run_stages([calls.stage("a", 1), calls.stage("b", 2)], manifest, echo=False)
    assert calls.runs == ["a", "b"]
    run_stages([calls.stage("a", 1), calls.stage("b", 3)], RunManifest.load(tmp_path), echo=False)
    assert calls.runs == ["a", "b", "b"]


def test_always_stages_run_every_time(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    for _ in range(2):
        run_stages([calls.stage("report", {}, always=True)], RunManifest.load(tmp_path), echo=False)
    assert calls.runs == ["report", "report"]


def test_a_deleted_output_makes_its_stage_rerun(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    run_stages([calls.stage("a", 1)], RunManifest.load(tmp_path), echo=False)
    (tmp_path / "a.out").unlink()
    run_stages([calls.stage("a", 1)], RunManifest.load(tmp_path), echo=False)
    assert calls.runs == ["a", "a"]


def test_a_crash_keeps_the_finished_stages(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    with pytest.raises(RuntimeError):
        run_stages([calls.stage("a", 1), calls.stage("b", 2, fail=True)], RunManifest.load(tmp_path), echo=False)
    manifest = RunManifest.load(tmp_path)
    assert set(manifest.stages) == {"a"}
    run_stages([calls.stage("a", 1), calls.stage("b", 2)], manifest, echo=False)
    assert calls.runs == ["a", "b", "b"]


def test_manifest_round_trips_records_and_info(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    manifest = RunManifest.load(tmp_path)
    manifest.info["profile"] = "cpu-small"
    run_stages([calls.stage("a", 1)], manifest, echo=False)
    again = RunManifest.load(tmp_path)
    assert again.info == {"profile": "cpu-small"}
    assert again.stages["a"].input_hash == hash_json(1)
    assert again.stages["a"].seconds >= 0


def test_runner_eta_comes_from_the_last_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = Calls(tmp_path)
    run_stages([calls.stage("a", 1), calls.stage("b", 1)], RunManifest.load(tmp_path), echo=False)
    runner = StageRunner(RunManifest.load(tmp_path))
    runner.plan(["a", "b"])
    runner.run(calls.stage("a", 2))
    assert "ETA" in capsys.readouterr().err


class Scope:
    """A context manager that counts how often it is entered (the teacher's server, in a run)."""

    def __init__(self) -> None:
        self.entered = 0
        self.inside = False

    def __enter__(self) -> Scope:
        self.entered += 1
        self.inside = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.inside = False


def test_a_dry_walk_checks_each_stage_and_writes_nothing(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    run_stages([calls.stage("a", 1), calls.stage("b", 2)], RunManifest.load(tmp_path))
    recorded = (tmp_path / "run.json").read_bytes()
    runner = StageRunner(RunManifest.load(tmp_path), dry=True)

    def reads_b() -> int:
        return int(runner.need("b").input_hash != "")

    later = Stage("c", "c", reads_b, dict)
    found = runner.walk([calls.stage("a", 1), calls.stage("b", 3), later, calls.stage("r", {}, always=True)])
    assert [(o.name, o.status, o.waits_on) for o in found] == [
        ("a", "done", None),
        ("b", "runs", None),
        ("c", "runs", "b"),  # its inputs read b's outputs, which the run would make first
        ("r", "always", None),
    ]
    assert calls.runs == ["a", "b"] and (tmp_path / "run.json").read_bytes() == recorded
    with pytest.raises(PendingInputsError):
        runner.need("b")


def test_a_walk_stops_after_the_last_stage_of_a_kind(tmp_path: Path) -> None:
    calls = Calls(tmp_path)
    stages = [calls.stage(name, 1) for name in ("generate:x", "generate:y", "mix", "train")]
    found = StageRunner(RunManifest.load(tmp_path), echo=False).walk(stages, stop_after="generate")
    assert calls.runs == ["generate:x", "generate:y"]
    assert [o.status for o in found] == ["ran", "ran", "not reached", "not reached"]
    assert set(RunManifest.load(tmp_path).stages) == {"generate:x", "generate:y"}


def test_stages_sharing_a_scope_run_inside_one_with_and_a_dry_walk_never_enters_it(tmp_path: Path) -> None:
    calls, scope = Calls(tmp_path), Scope()
    seen: list[bool] = []

    def inside(name: str) -> Stage:
        stage = calls.stage(name, 1)
        body = stage.run
        stage.run = lambda: (seen.append(scope.inside), body())[1]
        stage.scope = scope
        return stage

    stages = [inside("generate:x"), inside("generate:y"), calls.stage("mix", 1)]
    StageRunner(RunManifest.load(tmp_path), dry=True).walk(stages)
    assert scope.entered == 0
    StageRunner(RunManifest.load(tmp_path), echo=False).walk(stages)
    assert scope.entered == 1 and seen == [True, True] and not scope.inside
