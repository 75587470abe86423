"""Each stage of `taxolab run` redoes exactly what its inputs changed (issue 18's two wrong reruns).

1. Editing a custom pipeline (or a prompt it uses) changed nothing on a rerun: the leaves' folders
   were named without the pipeline files. The generate stage now uses generation's own fingerprint,
   which holds the pipeline and prompt files each leaf's kind runs.
2. `--set generate.context_ratio=0.9` regenerated every leaf (the teacher's work) to change a share
   only mixing reads. Mixing settings are now the `mix:` section, which only the mix stage hashes.

The teacher is the sdg tests' scripted fake server (real HTTP on 127.0.0.1) and mixing is real;
training, evaluation and conversion are the quick stand-ins of `test_run_skipping`, since what is
under test is which stages run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.hashing import hash_json
from taxolab.sdg.library import SHIPPED
from taxolab.sdg.runs import leaf_fingerprint, read_manifest
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.workflow import run as run_module
from taxolab.workflow.layout import RunLayout
from taxolab.workflow.profiles import load_run_config, resolve_profile
from taxolab.workflow.run import RunOptions, RunResult, run_workflow

from .test_run_resume_kill import scripted_teacher
from .test_run_skipping import EVERYTHING, StandIns

KNOWLEDGE = "knowledge_science_animals_birds_black_capped_chickadee"
SKILL = "compositional_skills_linguistics_synonyms"


def run(taxonomy: Path, **sections: Any) -> RunResult:
    profile = resolve_profile("cpu-small")
    config = load_run_config(None, profile, sections)
    return run_workflow(config, RunOptions(taxonomy, "auto", profile, show_progress=False))


def custom_pipelines(folder: Path) -> Path:
    """The shipped `simple` set as a user's own folder, with the knowledge question prompt copied beside it."""
    shutil.copytree(SHIPPED / "simple", folder)
    prompt = folder / "prompts" / "knowledge" / "question_for_span.yaml"
    prompt.parent.mkdir(parents=True)
    shutil.copy(SHIPPED.parent / "prompts" / "knowledge" / "question_for_span.yaml", prompt)
    return folder


def test_editing_a_custom_pipeline_regenerates_exactly_the_leaves_that_use_it(
    taxonomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand = StandIns(monkeypatch)
    pipelines = custom_pipelines(tmp_path / "pipelines")
    run(taxonomy, generate={"pipeline": str(pipelines)})
    assert stand.take() == EVERYTHING

    # appending a block to the freeform skills pipeline: the skill leaf only (the knowledge leaf runs another)
    with (pipelines / "freeform_skills.yaml").open("a") as file:
        file.write("  - block: dedup\n    name: unique_answers\n    columns: [answer]\n")
    first = run(taxonomy, generate={"pipeline": str(pipelines)})
    assert regenerated(stand) == {"generate:compositional": 1}

    # a prompt only the knowledge pipeline uses: the knowledge leaf only
    prompt = pipelines / "prompts" / "knowledge" / "question_for_span.yaml"
    prompt.write_text(prompt.read_text() + "# reviewed\n")
    second = run(taxonomy, generate={"pipeline": str(pipelines)})
    assert regenerated(stand) == {"generate:knowledge": 1}

    # the folders are named by generation's own fingerprint: one fingerprint, no second list in the workflow
    config = load_run_config(None, resolve_profile("cpu-small"), {"generate": {"pipeline": str(pipelines)}})
    leaves = {leaf.name: leaf for leaf in run_module.prepare_run(config, RunOptions(taxonomy, "auto")).leaves}
    assert second.run_dir == first.run_dir
    named = run_module.generation_inputs(config, leaves[KNOWLEDGE])
    assert named["generation"] == leaf_fingerprint(config, leaves[KNOWLEDGE])
    assert RunLayout(second.run_dir).leaf_data(KNOWLEDGE, hash_json(named)).is_dir()


def regenerated(stand: StandIns) -> dict[str, int]:
    """The generation stages that ran, after checking that the mix was made again from their rows.

    (The stand-ins' rows do not depend on the pipeline, so what comes after the mix may be skipped.)
    """
    calls = stand.take()
    assert calls["mix"] == 1
    return {name: count for name, count in calls.items() if name.startswith("generate:")}


def test_a_mix_setting_remixes_and_retrains_without_a_teacher_request(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_generation, real_mix = run_module.generate_leaf, run_module.mix_leaves
    stand = StandIns(monkeypatch)
    monkeypatch.setattr(run_module, "generate_leaf", real_generation)
    monkeypatch.setattr(run_module, "mix_leaves", real_mix)
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        generate = {"endpoint_urls": [teacher.url], "sdg_scale_factor": 1}
        first = run(taxonomy, generate=generate)
        asked = len(teacher.requests)
        assert asked > 0 and stand.take() == {"train": 1, "evaluate": 1, "convert": 1, "report": 1}
        assert not {"context", "context_with_distractor"} & kinds(first)  # cpu-small: no with-passage samples
        assert {"closed_book", "passage"} <= kinds(first)

        second = run(taxonomy, generate=generate, mix={"context_ratio": 0.9})
        assert len(teacher.requests) == asked  # not one teacher request
        assert {s.name: s.skipped for s in second.stages if s.name.startswith("generate:")} == {
            f"generate:{KNOWLEDGE}": True,
            f"generate:{SKILL}": True,
        }
        assert not next(s for s in second.stages if s.name == "mix").skipped
        assert stand.take() == {"train": 1, "evaluate": 1, "convert": 1, "report": 1}
        assert {"context", "context_with_distractor"} & kinds(second)

        # the old key still works, read as the new one: the same inputs, so nothing is redone
        capsys.readouterr()
        run(taxonomy, generate={**generate, "context_ratio": 0.9})
        assert len(teacher.requests) == asked and stand.take() == {"report": 1}
    err = capsys.readouterr().err
    assert "generate.context_ratio -> mix.context_ratio" in err
    (record,) = second.run_dir.glob(f"data/leaves/{KNOWLEDGE}/*/generation.json")
    assert "context_ratio" not in (read_manifest(record.parent) or {})["settings"]


def kinds(result: RunResult) -> set[str]:
    (mix,) = result.run_dir.glob("data/mix/knowledge_train_msgs_*.jsonl")
    return {sample["metadata"]["sample_type"] for sample in fsio.read_jsonl(mix)}
