"""`taxolab data review`: rows listed with stable ids, decisions recorded, and a rerun that trains on them
(issue 18, item 4).

Generation (with the scripted fake teacher on 127.0.0.1) and the mix are real; training, conversion and
evaluation are the quick stand-ins of `test_run_skipping`. What must hold: the listing shows each leaf's kept
rows and held-out pairs (and, asked, the dropped rows with their reason) under ids that do not move;
reject/edit/restore land in the leaf's review file; the rerun re-mixes and retrains without one teacher
request and its training files carry the decisions (no rejected row, edited texts, an edited held-out pair
still held out); a regeneration keeps the file, reports decisions on rows that are gone, and applies them
again when the rows come back; `--more LEAF` generates a further batch for that leaf alone, keeping its rows
and their decisions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.cli.main import main
from taxolab.mixing.review import row_id
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.workflow import run as run_module
from taxolab.workflow.profiles import load_run_config, resolve_profile
from taxolab.workflow.run import RunOptions, RunResult, run_workflow

from .test_run_resume_kill import scripted_teacher
from .test_run_skipping import StandIns

PROFILE = resolve_profile("cpu-small")
KNOWLEDGE = "knowledge_science_animals_birds_black_capped_chickadee"
SKILL = "compositional_skills_linguistics_synonyms"


class Walk:
    """Runs `taxolab run` on the sample taxonomy against the fake teacher, counting stage calls."""

    def __init__(self, taxonomy: Path, teacher: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taxonomy, self.teacher = taxonomy, teacher
        real_generation, real_mix = run_module.generate_leaf, run_module.mix_leaves
        self.stand = StandIns(monkeypatch)

        def generate_leaf(teacher: Any, leaf: Any, folder: Path, **kw: Any) -> dict[str, Any]:
            self.stand.calls[f"generate:{leaf.name}"] += 1
            return real_generation(teacher, leaf, folder, **kw)

        def mix_leaves(*args: Any, **kw: Any) -> dict[str, Any]:
            self.stand.calls["mix"] += 1
            return real_mix(*args, **kw)

        monkeypatch.setattr(run_module, "generate_leaf", generate_leaf)
        monkeypatch.setattr(run_module, "mix_leaves", mix_leaves)

    def __call__(self, stop_after: str | None = None, **generate: Any) -> RunResult:
        sections = {"generate": {"endpoint_urls": [self.teacher.url], "sdg_scale_factor": 1, **generate}}
        config = load_run_config(None, PROFILE, sections)
        return run_workflow(
            config, RunOptions(self.taxonomy, "auto", PROFILE, show_progress=False, stop_after=stop_after)
        )


def review(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main(["data", "review", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def trained_questions(run_dir: Path) -> str:
    """Every training file of the run's mix, as one text (questions appear in it verbatim)."""
    return trained_questions_in(run_dir / "data" / "mix")


def evaluated(run_dir: Path) -> list[dict[str, Any]]:
    mix = run_dir / "data" / "mix"
    return [
        row
        for part in ("heldout", "test")
        for p in mix.glob(f"**/{part}/{KNOWLEDGE}.jsonl")
        for row in fsio.read_jsonl(p)
    ]


@pytest.mark.timeout(240)
def test_review_then_rerun_trains_on_the_reviewed_rows(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        walk = Walk(taxonomy, teacher, monkeypatch)
        stopped = walk("mix")
        run_dir = stopped.run_dir
        assert walk.stand.take() == {f"generate:{KNOWLEDGE}": 1, f"generate:{SKILL}": 1, "mix": 1}

        # `data show` prints a leaf's generation record and a checkpoint batch's rows (not "invalid JSON")
        (record,) = run_dir.glob(f"data/leaves/{KNOWLEDGE}/*/generation.json")
        capsys.readouterr()
        assert main(["data", "show", str(record), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["kind"] == "generation"
        batch = next(run_dir.glob(f"data/leaves/{KNOWLEDGE}/*/checkpoints/*/*/batch-*.json"))
        assert main(["data", "show", str(batch), "-n", "2", "--json"]) == 0
        assert len(json.loads(capsys.readouterr().out)) == 2

        # the listing: kept rows and held-out pairs of each leaf, ids as the rows' hashes
        listed = review(capsys, str(run_dir))
        rows = listed["leaves"]
        assert set(rows) == {KNOWLEDGE, SKILL}
        (generated,) = run_dir.glob(f"data/leaves/{KNOWLEDGE}/*/generated/{KNOWLEDGE}.jsonl")
        kept = [r for r in rows[KNOWLEDGE] if r["status"] == "kept"]
        held = [r for r in rows[KNOWLEDGE] if r["status"] == "heldout"]
        assert [r["id"] for r in kept] == [row_id(r) for r in fsio.read_jsonl(generated)]
        assert held and all(r["span_id"] for r in held)
        assert all(r["status"] == "kept" for r in rows[SKILL])
        assert not any(r["status"] == "dropped" for r in rows[KNOWLEDGE])
        with_dropped = review(capsys, str(run_dir), "--leaf", KNOWLEDGE, "--dropped")["leaves"][KNOWLEDGE]
        dropped = [r for r in with_dropped if r["status"] == "dropped"]
        assert dropped and all(r["reason"] for r in dropped)  # the scripted teacher's invented answers
        assert review(capsys, str(run_dir))["leaves"] == rows  # ids are stable from call to call

        # decisions, recorded in each leaf's review.yaml
        rejected, edited_row, skill_row = kept[0], kept[1], rows[SKILL][0]
        edited_pair, rejected_pair = held[0], held[1]
        decided = review(capsys, str(run_dir), "--reject", f"{rejected['id']},{rejected_pair['id']}")
        assert {d["action"] for d in decided["decided"]} == {"reject"}
        review(capsys, str(run_dir), "--edit", edited_row["id"], "--question", "Which bird is Poecile atricapillus?")
        review(capsys, str(run_dir), "--edit", skill_row["id"], "--answer", "Reviewed answer one.")
        review(capsys, str(run_dir), "--edit", edited_pair["id"], "--question", "Name the bird with a black bib.")
        review(capsys, str(run_dir), "--reject", skill_row["id"], "--reject", rows[SKILL][1]["id"])
        review(capsys, str(run_dir), "--edit", skill_row["id"], "--answer", "Reviewed answer one.")
        restored = review(capsys, str(run_dir), "--restore", rows[SKILL][1]["id"])
        assert restored["decided"] == [
            {"id": rows[SKILL][1]["id"], "leaf": SKILL, "action": "restore", "question": None, "answer": None}
        ]
        knowledge_file = run_dir / "data" / "leaves" / KNOWLEDGE / "review.yaml"
        skill_file = run_dir / "data" / "leaves" / SKILL / "review.yaml"
        text = knowledge_file.read_text()
        assert f"{rejected['id']}:\n    decision: reject" in text
        assert "question: Which bird is Poecile atricapillus?" in text
        assert skill_file.read_text().count("decision:") == 1  # the restored one is gone, the re-edit replaced
        marks = {r["id"]: r.get("decision") for r in review(capsys, str(run_dir))["leaves"][KNOWLEDGE]}
        assert marks[rejected["id"]] == "reject" and marks[edited_pair["id"]] == "edit"

        # a bad id is one line naming what to do, not a traceback
        assert main(["data", "review", str(run_dir), "--reject", "00000000"]) != 0
        assert "taxolab data review FOLDER" in capsys.readouterr().err

        # the rerun: re-mix and retrain on the reviewed rows, no teacher request
        asked = len(teacher.requests)
        walk()
        assert len(teacher.requests) == asked
        assert walk.stand.take() == {"mix": 1, "train": 1, "convert": 1, "evaluate": 1, "report": 1}
        trained = trained_questions(run_dir)
        assert json.dumps(rejected["question"])[1:-1] not in trained
        assert json.dumps(edited_row["question"])[1:-1] not in trained
        assert "Which bird is Poecile atricapillus?" in trained
        assert "Reviewed answer one." in trained and json.dumps(skill_row["answer"])[1:-1] not in trained
        # the edited held-out pair stays held out, with its new text; the rejected one leaves evaluation
        assert "Name the bird with a black bib." not in trained
        asked_questions = {row["question"] for row in evaluated(run_dir)}
        assert "Name the bird with a black bib." in asked_questions
        assert rejected_pair["question"] not in asked_questions
        assert edited_pair["question"] not in asked_questions

        # nothing changed: nothing reruns; a restore re-mixes again
        walk()
        assert walk.stand.take() == {"report": 1}
        review(capsys, str(run_dir), "--restore", rejected["id"])
        walk()
        assert walk.stand.take() == {"mix": 1, "train": 1, "convert": 1, "evaluate": 1, "report": 1}
        assert json.dumps(rejected["question"])[1:-1] in trained_questions(run_dir)

        # a regeneration (another generation seed) keeps the review files; decisions on rows that are gone
        # are reported, and apply again when the same rows come back
        walk("mix", seed=7)
        assert knowledge_file.is_file() and skill_file.is_file()
        after = review(capsys, str(run_dir))
        assert edited_row["id"] in after["missing"].get(KNOWLEDGE, [])
        walk("mix")
        back = review(capsys, str(run_dir))
        assert back["missing"] == {}
        assert "Which bird is Poecile atricapillus?" in trained_questions(run_dir)
        assert len(teacher.requests) > asked  # the regenerations asked the teacher; the reviews never did


@pytest.mark.timeout(240)
def test_more_regenerates_only_that_leaf_and_keeps_its_rows_and_decisions(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        walk = Walk(taxonomy, teacher, monkeypatch)
        run_dir = walk("mix").run_dir
        walk.stand.take()
        before = review(capsys, str(run_dir))["leaves"]
        skill_ids = [r["id"] for r in before[SKILL]]
        rejected = before[SKILL][0]
        review(capsys, str(run_dir), "--reject", rejected["id"])
        (skill_folder,) = (run_dir / "data" / "leaves" / SKILL).glob("*/generated")
        skill_rows = (skill_folder / f"{SKILL}.jsonl").read_bytes()

        asked = review(capsys, str(run_dir), "--more", SKILL, "--rows", "3")
        assert asked["more"] == [3]
        knowledge_before = teacher.requests[:]
        walk("mix")
        assert walk.stand.take() == {f"generate:{SKILL}": 1, "mix": 1}  # the knowledge leaf is untouched
        new_requests = teacher.requests[len(knowledge_before) :]
        assert new_requests and not any("chickadee" in json.dumps(r).lower() for r in new_requests)
        assert (skill_folder / f"{SKILL}.jsonl").read_bytes() == skill_rows  # the first batch is kept as it was
        after = review(capsys, str(run_dir))["leaves"]
        ids = [r["id"] for r in after[SKILL]]
        assert ids[: len(skill_ids)] == skill_ids and len(ids) == len(skill_ids) + 3
        assert after[SKILL][0]["decision"] == "reject"  # the decision stays on its row
        assert after[KNOWLEDGE] == before[KNOWLEDGE]
        trained = trained_questions(run_dir)
        assert all(json.dumps(r["question"])[1:-1] in trained for r in after[SKILL][len(skill_ids) :])
        assert json.dumps(rejected["question"])[1:-1] not in trained

        # nothing more asked: the rerun asks the teacher nothing
        count = len(teacher.requests)
        walk("mix")
        assert walk.stand.take() == {} and len(teacher.requests) == count


def test_a_data_generate_folder_is_reviewed_and_remixed_without_the_teacher(
    taxonomy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from taxolab.config import load_config
    from taxolab.taxonomy import load_leaves
    from taxolab.workflow.data import generate_and_mix

    leaves = load_leaves(taxonomy, "empty")
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        config = load_config(
            None,
            {
                "generate": {"endpoint_urls": [teacher.url], "sdg_scale_factor": 1},
                "paths": {"datasets": str(tmp_path / "datasets"), "taxonomy": str(taxonomy)},
                "taxonomy": {"base": "empty"},
            },
        )
        folder = generate_and_mix(config, leaves=leaves, show_progress=False).output_dir
        listed = review(capsys, str(folder))["leaves"]
        rejected = listed[SKILL][0]
        review(capsys, str(folder), "--reject", rejected["id"])
        assert (folder / "review" / f"{SKILL}.yaml").is_file()
        pair = next(r for r in listed[KNOWLEDGE] if r["status"] == "heldout")
        assert main(["data", "review", str(folder), "--reject", pair["id"]]) != 0  # rewritten in place there
        assert "taxolab run" in capsys.readouterr().err
        assert main(["data", "review", str(folder), "--more", SKILL]) != 0
        assert "sdg-scale-factor" in capsys.readouterr().err

        asked = len(teacher.requests)
        again = generate_and_mix(config, leaves=leaves, show_progress=False)
        assert len(teacher.requests) == asked and again.output_dir == folder
    assert json.dumps(rejected["question"])[1:-1] not in trained_questions_in(folder)
    assert json.dumps(listed[SKILL][1]["question"])[1:-1] in trained_questions_in(folder)
    assert again.manifest["counts"]["leaves"][SKILL]["mixed"]["review_rejected"] == 1


def trained_questions_in(folder: Path) -> str:
    return "".join(path.read_text() for path in folder.glob("*_train_msgs_*.jsonl"))
