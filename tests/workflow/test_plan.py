"""`taxolab run --plan`, and one configuration for the command line and the Python API.

Issue 13: the CLI applied part of each profile itself (GGUF type, chunk cap),
so `run_workflow` called from Python with `gpu-1` converted to q8_0 instead
of the profile's f16. Now a profile is a pure overlay of config keys
(`run.*` included) that only `load_run_config` applies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from taxolab.cli.main import main
from taxolab.config import load_config
from taxolab.errors import TaxolabError
from taxolab.mixing.settings import DEFAULT_FORMS
from taxolab.workflow import run as run_module
from taxolab.workflow.estimates import ANSWER_TOKEN_SHARE
from taxolab.workflow.plan import plan_workflow
from taxolab.workflow.profiles import PROFILES, load_run_config, resolve_profile
from taxolab.workflow.run import RunOptions, run_workflow
from taxolab.workflow.stages import STAGES, stage_names

from .test_run_skipping import KNOWLEDGE, SKILL, StandIns

DOCUMENT_REPO = "https://github.com/juliadenham/Summit_knowledge"


@pytest.fixture
def skills_only(shared_data: Path, tmp_path: Path) -> Path:
    root = tmp_path / "skills-taxonomy"
    (root / SKILL).mkdir(parents=True)
    shutil.copy(shared_data / "taxonomy" / SKILL / "qna.yaml", root / SKILL)
    return root


def cli_plan(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["run", "--plan", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", list(PROFILES))
def test_python_api_and_cli_run_with_the_same_config(
    name: str, skills_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = {"paths": {"taxonomy": str(skills_only)}, "taxonomy": {"base": "empty"}}
    from_cli = cli_plan(capsys, "--profile", name, "--taxonomy-path", str(skills_only), "--taxonomy-base", "empty")
    profile = resolve_profile(name)
    from_python = plan_workflow(load_run_config(None, profile, where), RunOptions(profile=profile)).to_json()
    assert from_cli["settings"] == from_python["settings"]
    assert from_cli["profile"] == from_python["profile"] == name
    assert from_cli["settings"]["run"]["outtype"] == "f16"
    assert from_cli["settings"]["run"]["max_chunks_per_leaf"] is None


def test_run_workflow_from_python_with_gpu_1_converts_to_f16(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    StandIns(monkeypatch)
    outtypes: list[str] = []
    convert = run_module.convert_model

    def record(trained: Path, target: Path, outtype: str) -> dict[str, Any]:
        outtypes.append(outtype)
        return convert(trained, target, outtype)

    monkeypatch.setattr(run_module, "convert_model", record)
    profile = resolve_profile("gpu-1")
    result = run_workflow(load_run_config(None, profile), RunOptions(taxonomy, "auto", profile, show_progress=False))
    assert outtypes == ["f16"] and result.gguf.name.endswith(".F16.gguf")
    # A config that was not built with the profile named is refused instead of half-applied.
    with pytest.raises(TaxolabError, match="load_run_config"):
        run_workflow(load_config(None), RunOptions(taxonomy, "auto", profile, show_progress=False))


def test_plan_follows_the_stage_list_and_knows_what_is_done(
    taxonomy: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = resolve_profile("cpu-small")
    docs = {"documents": {"offline": True, "mirrors": {DOCUMENT_REPO: str(shared_data / "summit_knowledge.bundle")}}}

    def plan(**sections: Any) -> dict[str, Any]:
        config = load_run_config(None, profile, docs, sections)
        return plan_workflow(config, RunOptions(taxonomy, "auto", profile)).to_json()

    def status(found: dict[str, Any]) -> dict[str, str]:
        return {stage["name"]: stage["status"] for stage in found["stages"]}

    fresh = plan()
    assert [s["name"] for s in fresh["stages"]] == stage_names(
        sorted([KNOWLEDGE.replace("/", "_"), SKILL.replace("/", "_")])
    )
    assert len(STAGES) == 7
    assert set(status(fresh).values()) == {"always", "runs"}
    assert not (taxonomy.parent / "data" / "runs").exists() or not any((taxonomy.parent / "data" / "runs").iterdir())

    StandIns(monkeypatch)
    run_workflow(load_run_config(None, profile, docs), RunOptions(taxonomy, "auto", profile, show_progress=False))
    done = status(plan())
    assert {name for name, s in done.items() if s != "done"} == {"taxonomy", "report"}
    # A speed-only setting changes nothing; a training setting redoes training and what follows, not the data.
    assert status(plan(generate={"batch_size": 16}, train={"threads": 1})) == done
    after = status(plan(train={"learning_rate": 1e-4}))
    assert [after[name] for name in ("mix", "train", "evaluate", "convert")] == ["done", "runs", "runs", "runs"]
    assert all(s == "done" for name, s in after.items() if name.startswith("generate:"))


def test_plan_estimates_follow_the_counts(taxonomy: Path, shared_data: Path) -> None:
    profile = resolve_profile("cpu-small")
    docs = {"documents": {"offline": True, "mirrors": {DOCUMENT_REPO: str(shared_data / "summit_knowledge.bundle")}}}

    def estimates(**sections: Any) -> dict[str, dict[str, Any]]:
        config = load_run_config(None, profile, docs, sections)
        found = plan_workflow(config, RunOptions(taxonomy, "auto", profile)).to_json()
        return {stage["name"]: stage["estimate"] for stage in found["stages"]} | {"budget": found["budget"]}

    base = estimates()
    knowledge, skill = (f"generate:{leaf.replace('/', '_')}" for leaf in (KNOWLEDGE, SKILL))
    assert base["budget"] is None  # no cap unless one is set (issue 11)
    for name in (knowledge, skill):
        e = base[name]
        assert e["teacher_requests"] > 0 and e["seconds"] > 0
    # The bound counts every answer at its cap: generate.max_num_tokens (256 in cpu-small), or a block's lower
    # one; the expectation (what the time is computed from) the measured share of it.
    assert base[skill]["completion_tokens_max"] == 256 * base[skill]["teacher_requests"]
    short = estimates(generate={"max_num_tokens": 32})
    assert short[knowledge]["completion_tokens_max"] < base[knowledge]["completion_tokens_max"]
    for e in (base[skill], base[knowledge], short[knowledge]):
        assert e["completion_tokens"] == pytest.approx(ANSWER_TOKEN_SHARE * e["completion_tokens_max"], abs=2)
    assert short[knowledge]["seconds"] < base[knowledge]["seconds"]
    # a span left short is asked again (the pipeline's top-up), so more attempts plan more requests
    more = estimates(generate={"max_attempts_per_span": 5})
    assert more[knowledge]["teacher_requests"] > base[knowledge]["teacher_requests"]
    # generate.questions_per_leaf: a short document's spans ask for more choices in as many requests
    asked = estimates(generate={"questions_per_leaf": 100_000})
    assert asked[knowledge]["teacher_requests"] == base[knowledge]["teacher_requests"]
    # 8 questions per span instead of 3 (a few blocks after the questions do not multiply)
    assert asked[knowledge]["completion_tokens_max"] > 2.5 * base[knowledge]["completion_tokens_max"]
    # the teacher-free forms are trained tokens too: without them the knowledge mix is smaller
    fewer = estimates(mix={"forms": ["questions"]})
    assert fewer["train"]["train_tokens"] < base["train"]["train_tokens"]
    keyed = estimates(mix={"forms": [*DEFAULT_FORMS, "entity_questions"]})  # an opt-in kind costs tokens too
    assert keyed["train"]["train_tokens"] > base["train"]["train_tokens"]
    uncued = estimates(mix={"forms": [kind for kind in DEFAULT_FORMS if kind != "cue_questions"]})
    assert uncued["train"]["train_tokens"] < base["train"]["train_tokens"]
    item_only = estimates(mix={"fill_in_answer": "item"})  # a fill-in answered with its item is shorter
    assert item_only["train"]["train_tokens"] < base["train"]["train_tokens"]
    assert "chunks" in base[knowledge]["basis"]
    assert base["train"]["train_tokens"] > 0 and base["evaluate"]["teacher_requests"] > 0

    doubled = estimates(generate={"sdg_scale_factor": 2})
    assert doubled[skill]["teacher_requests"] == 2 * base[skill]["teacher_requests"]
    assert doubled[skill]["seconds"] == pytest.approx(2 * base[skill]["seconds"], rel=0.01)
    assert doubled["train"]["train_tokens"] > base["train"]["train_tokens"]

    capped = estimates(run={"max_chunks_per_leaf": 1})
    assert capped["budget"] == "at most 1 document chunks per knowledge leaf (run.max_chunks_per_leaf)"
    assert "1 chunks" in capped[knowledge]["basis"]
    assert capped[knowledge]["teacher_requests"] < base[knowledge]["teacher_requests"]
    assert capped[skill] == base[skill]


def test_plan_counts_replay_only_beside_skills_leaves(taxonomy: Path, shared_data: Path, tmp_path: Path) -> None:
    """The skills mix replays knowledge only beside skills samples, so a knowledge-only taxonomy plans none."""
    knowledge_only = tmp_path / "knowledge-taxonomy"
    (knowledge_only / KNOWLEDGE).mkdir(parents=True)
    shutil.copy(shared_data / "taxonomy" / KNOWLEDGE / "qna.yaml", knowledge_only / KNOWLEDGE)
    profile = resolve_profile("cpu-small")
    docs = {"documents": {"offline": True, "mirrors": {DOCUMENT_REPO: str(shared_data / "summit_knowledge.bundle")}}}
    config = load_run_config(None, profile, docs, {"run": {"max_chunks_per_leaf": 2}})

    def train_estimate(root: Path, base: str) -> dict[str, Any]:
        stages = plan_workflow(config, RunOptions(root, base, profile)).to_json()["stages"]
        return next(stage["estimate"] for stage in stages if stage["name"] == "train")

    both, alone = train_estimate(taxonomy, "auto"), train_estimate(knowledge_only, "empty")
    assert f"knowledge replay {config.mix.knowledge_replay:g}" in both["basis"]
    assert alone["basis"].endswith("knowledge replay 0")


def test_plan_prints_for_people(skills_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = ["run", "--plan", "--profile", "cpu-small", "--taxonomy-path", str(skills_only), "--taxonomy-base", "empty"]
    assert main([*args, "--max-chunks-per-leaf", "4"]) == 0
    out = capsys.readouterr().out
    assert "budget: at most 4 document chunks per knowledge leaf" in out
    assert "runs  generate data: compositional_skills_linguistics_synonyms" in out
    assert "to do:" in out and "teacher requests" in out and "rates: measured" in out
