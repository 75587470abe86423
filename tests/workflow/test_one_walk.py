"""`taxolab run` and `taxolab run --plan` are one walk over one stage list (issue 18, item 1), and
`--stop-after` ends that walk after a stage so a user can review the rows before training.

The plan is the run's walk in dry mode, so what it says is checked against what the run then does,
stage by stage, for a fresh run, a rerun with nothing changed, a mix-only setting and a deleted
model. The teacher is the scripted fake server of the sdg tests (real HTTP on 127.0.0.1) and
generation and mixing are real; training, evaluation and conversion are the quick stand-ins of
`test_run_skipping` (they need minutes of CPU and llama.cpp's converter), which write their outputs
as the real stages do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxolab.cli.main import main
from taxolab.records import RUN
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.workflow import run as run_module
from taxolab.workflow.manifest import RunManifest
from taxolab.workflow.plan import plan_workflow
from taxolab.workflow.profiles import load_run_config, resolve_profile
from taxolab.workflow.run import RunOptions, RunResult, run_workflow

from .test_run_resume_kill import scripted_teacher
from .test_run_skipping import EVERYTHING, StandIns

PROFILE = resolve_profile("cpu-small")


def options(taxonomy: Path, stop_after: str | None = None) -> RunOptions:
    return RunOptions(taxonomy, "auto", PROFILE, show_progress=False, stop_after=stop_after)


def planned(taxonomy: Path, stop_after: str | None = None, **sections: Any) -> dict[str, str]:
    """Stage name -> the plan's status, as a run would see it: ``ran`` (runs, always), ``done``, ``not reached``."""
    plan = plan_workflow(load_run_config(None, PROFILE, sections), options(taxonomy, stop_after)).to_json()
    said = {"runs": "ran", "always": "ran", "done": "done", "not reached": "not reached"}
    return {stage["name"]: said[stage["status"]] for stage in plan["stages"]}


def run(taxonomy: Path, stop_after: str | None = None, **sections: Any) -> RunResult:
    return run_workflow(load_run_config(None, PROFILE, sections), options(taxonomy, stop_after))


def did(result: RunResult) -> dict[str, str]:
    return {stage.name: "done" if stage.skipped else "ran" for stage in result.stages}


def test_the_plan_says_what_the_run_then_does(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_generation, real_mix = run_module.generate_leaf, run_module.mix_leaves
    StandIns(monkeypatch)
    monkeypatch.setattr(run_module, "generate_leaf", real_generation)
    monkeypatch.setattr(run_module, "mix_leaves", real_mix)
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        generate = {"endpoint_urls": [teacher.url], "sdg_scale_factor": 1}

        def check(**sections: Any) -> dict[str, str]:
            said = planned(taxonomy, generate=generate, **sections)
            done = did(run(taxonomy, generate=generate, **sections))
            assert said == done
            return done

        first = check()
        assert set(first.values()) == {"ran"}
        run_json = next(taxonomy.parent.glob(f"**/{RUN}"))
        recorded = run_json.read_bytes()
        again = planned(taxonomy, generate=generate)
        assert run_json.read_bytes() == recorded  # the dry walk writes nothing
        assert {name for name, status in again.items() if status == "ran"} == {"taxonomy", "report"}
        assert check() == again

        # a mix-only setting: the mix and everything after it, not one leaf's generation
        remixed = check(mix={"context_ratio": 0.9})
        assert {name for name, status in remixed.items() if status == "ran"} == {
            "taxonomy",
            "mix",
            "train",
            "convert",
            "evaluate",
            "report",
        }
        assert len(teacher.requests) > 0

        # a deleted model: conversion only
        gguf = next(run_json.parent.glob("model/*.gguf"))
        gguf.unlink()
        converted = check(mix={"context_ratio": 0.9})
        assert {name for name, status in converted.items() if status == "ran"} == {"taxonomy", "convert", "report"}


def test_the_plan_marks_stages_after_a_rerun_stage_as_waiting_on_it(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    StandIns(monkeypatch)
    run(taxonomy)
    qna = next(taxonomy.glob("compositional_skills/**/qna.yaml"))
    qna.write_text(qna.read_text() + "# reviewed\n")
    plan = plan_workflow(load_run_config(None, PROFILE), options(taxonomy)).to_json()
    waits = {stage["name"]: stage["waits_on"] for stage in plan["stages"] if stage["waits_on"]}
    # the mix's inputs name the leaves' new folders (it runs); training reads the mix's outputs
    assert waits == {"train": "mix", "convert": "train", "evaluate": "train"}


def test_stop_after_mix_stops_there_and_a_rerun_goes_on(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = StandIns(monkeypatch)
    assert set(planned(taxonomy, "mix").items()) >= {
        ("mix", "ran"),
        ("train", "not reached"),
        ("report", "not reached"),
    }

    stopped = run(taxonomy, "mix")
    assert stand.take() == {"generate:knowledge": 1, "generate:compositional": 1, "mix": 1}
    assert stopped.stopped_after == "mix" and stopped.gguf is None and stopped.report is None
    assert "data show" in (stopped.next_step or "") and "without --stop-after" in (stopped.next_step or "")
    info = RunManifest.load(stopped.run_dir).info
    assert info["status"] == "stopped" and info["stopped_after"] == "mix"

    # the plan of the rerun: the data is done, the rest will run
    rest = planned(taxonomy)
    assert {name for name, status in rest.items() if status == "ran"} == {
        "taxonomy",
        "train",
        "convert",
        "evaluate",
        "report",
    }
    finished = run(taxonomy)
    assert stand.take() == {"train": 1, "evaluate": 1, "convert": 1, "report": 1}
    assert finished.gguf is not None and finished.stopped_after is None
    info = RunManifest.load(finished.run_dir).info
    assert info["status"] == "complete" and "stopped_after" not in info


def test_stop_after_generate_then_the_rerun_goes_on_from_the_mix(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand = StandIns(monkeypatch)
    run(taxonomy, "generate")
    assert stand.take() == {"generate:knowledge": 1, "generate:compositional": 1}
    run(taxonomy)
    assert stand.take() == {k: v for k, v in EVERYTHING.items() if not k.startswith("generate:")}
    # stopping after a stage that is already done stops there again, running nothing
    again = run(taxonomy, "train")
    assert stand.take() == {} and again.trained_model is not None and again.gguf is None


def test_stop_after_from_the_command_line(
    taxonomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stand = StandIns(monkeypatch)
    args = ["run", "--profile", "cpu-small", "--taxonomy-path", str(taxonomy), "--output-dir", str(tmp_path / "r")]
    capsys.readouterr()
    assert main([*args, "--stop-after", "mix", "--plan", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["stop_after"] == "mix" and plan["stages"][-1]["status"] == "not reached"
    assert main([*args, "--stop-after", "mix"]) == 0
    out = capsys.readouterr().out
    assert f"taxolab data show {tmp_path / 'r' / 'data' / 'mix'}" in out and "without --stop-after" in out
    assert stand.take()["mix"] == 1
    assert main([*args, "--stop-after", "evaluate"]) == 2  # not a stop point: click refuses it
    assert "stop-after" in capsys.readouterr().err


def test_the_plan_uses_the_rates_this_run_folder_measured(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    StandIns(monkeypatch)
    result = run(taxonomy)

    def estimates() -> dict[str, dict[str, Any]]:
        plan = plan_workflow(load_run_config(None, PROFILE, {"train": {"seed": 7}}), options(taxonomy))
        return {stage.name: vars(stage.estimate) for stage in plan.stages}

    before = estimates()
    assert before["train"]["rate"].startswith("default rate") and before["train"]["seconds"] > 0
    # what a real run keeps in run.json (the stand-ins count nothing): 50 trained tokens/s, 20 teacher tokens/s
    manifest = RunManifest.load(result.run_dir)
    for name, record in manifest.stages.items():
        if name == "train" or name.startswith("generate:"):
            tokens, seconds = (5000.0, 100.0) if name == "train" else (400.0, 20.0)
            record.outputs["throughput"] = {"amount": tokens, "unit": "tokens", "seconds": seconds, "per_second": 0}
    manifest.save()
    after = estimates()
    assert after["train"]["rate"].startswith("measured 50.0 tokens/s")
    assert after["train"]["seconds"] == pytest.approx(after["train"]["train_tokens"] / 50.0, abs=0.1)
    knowledge = next(name for name in after if name.startswith("generate:knowledge"))
    assert after[knowledge]["rate"].startswith("measured 20.0 tokens/s")
    assert after[knowledge]["seconds"] == pytest.approx(after[knowledge]["completion_tokens"] / 20.0, abs=0.1)
    assert after["evaluate"]["rate"].startswith("default rate")  # nothing measured for it

    # a new run folder beside it lends the rates of the newest run with the same models
    def beside(**sections: Any) -> dict[str, str]:
        where = RunOptions(taxonomy, "auto", PROFILE, output_dir=result.run_dir.parent / "next")
        plan = plan_workflow(load_run_config(None, PROFILE, sections), where)
        return {stage.name: stage.estimate.rate for stage in plan.stages}

    assert beside()["train"] == f"measured 50.0 tokens/s over 100 s in run {result.run_dir.name}"
    assert beside(models={"student": "another-student"})["train"].startswith("default rate")
    assert beside(models={"student": "another-student"})[knowledge].startswith("measured 20.0")  # same teacher


def test_data_list_shows_the_data_of_runs_beside_data_generate_runs(
    taxonomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_generation, real_mix = run_module.generate_leaf, run_module.mix_leaves
    StandIns(monkeypatch)
    monkeypatch.setattr(run_module, "generate_leaf", real_generation)
    monkeypatch.setattr(run_module, "mix_leaves", real_mix)
    runs = tmp_path / "runs"
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        config = load_run_config(None, PROFILE, {"generate": {"endpoint_urls": [teacher.url], "sdg_scale_factor": 1}})
        where = RunOptions(taxonomy, "auto", PROFILE, output_dir=runs / "sample", show_progress=False, stop_after="mix")
        run_workflow(config, where)
    (runs / "not-a-run").mkdir()  # a folder without run.json is passed over

    capsys.readouterr()
    empty = tmp_path / "datasets"
    assert main(["data", "list", "--datasets-dir", str(empty), "--runs-dir", str(runs), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["made_by"] == "taxolab run" and listed["status"] == "stopped after mix"
    assert listed["folder"] == str(runs / "sample" / "data" / "mix")
    assert listed["leaves"] == 2 and listed["rows"] > 0 and listed["test_questions"] > 0
    assert listed["knowledge_samples"] > 0 and listed["skills_samples"] > 0

    assert main(["data", "list", "--datasets-dir", str(empty), "--runs-dir", str(runs)]) == 0
    table = capsys.readouterr().out
    assert "taxolab run" in table and "stopped after mix" in table
    (mix,) = (runs / "sample" / "data" / "mix").glob("skills_train_msgs_*.jsonl")
    assert main(["data", "show", str(mix), "-n", "1"]) == 0 and "row 1" in capsys.readouterr().out


def test_the_run_says_its_plan_first_and_the_measured_time_per_stage_last(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18 item 5: the plan's estimate is printed at the start, each stage's measured time beside it at the
    end, and both are kept in run.json (``info.timing``) so the plan can be checked against the run."""
    StandIns(monkeypatch)
    result = run(taxonomy)
    err = capsys.readouterr().err
    assert err.index("plan: ~") < err.index("time per stage, planned -> measured:") < err.index("  total ")
    timing = RunManifest.load(result.run_dir).info["timing"]
    assert set(timing) == {stage.name for stage in result.stages if not stage.skipped}
    assert all(pair["planned"] is not None and pair["measured"] >= 0 for pair in timing.values())
    # a rerun with nothing to do runs only the always-stages, and says so
    run(taxonomy)
    assert set(RunManifest.load(result.run_dir).info["timing"]) == {"taxonomy", "report"}
