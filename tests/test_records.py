"""One resume-record type (taxolab.records) with a distinct file per kind of work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxolab.errors import TaxolabError
from taxolab.records import GENERATION, KINDS, RUN, TRAINING, ResumeRecord


def test_a_record_round_trips_and_names_its_kind(tmp_path: Path) -> None:
    assert len(set(KINDS)) == len(set(KINDS.values())) == 3  # three kinds, three file names
    record = ResumeRecord.claim(tmp_path, TRAINING, "abc", refusal="other work")
    record.info["strategy"] = "single"
    step = record.finish("skills", "abc", {"final_dir": "x"}, started=10.0)
    again = ResumeRecord.load(tmp_path, TRAINING)
    assert again.fingerprint == "abc" and again.info == {"strategy": "single"}
    assert again.done("skills", "abc") == step and again.done("skills", "other") is None
    assert json.loads((tmp_path / TRAINING).read_text())["kind"] == "training"
    assert not (tmp_path / RUN).exists() and not (tmp_path / GENERATION).exists()


def test_other_work_and_old_records_are_refused_not_reused(tmp_path: Path) -> None:
    ResumeRecord.claim(tmp_path, GENERATION, "one", refusal="x").save()
    with pytest.raises(TaxolabError, match="holds other work"):
        ResumeRecord.claim(tmp_path, GENERATION, "two", refusal=f"{tmp_path} holds other work")
    old = tmp_path / "old"
    old.mkdir()
    (old / "journal.json").write_text(json.dumps({"fingerprint": "f", "phases": {}}))
    with pytest.raises(TaxolabError, match=r"older taxolab \(journal.json\)"):
        ResumeRecord.load(old, TRAINING)
    (old / "training.json").write_text("{not json")
    with pytest.raises(TaxolabError, match="not a readable training record"):
        ResumeRecord.load(old, TRAINING)


def test_a_copied_or_moved_folder_reads_its_own_outputs_not_the_originals(tmp_path: Path) -> None:
    """run.json names outputs by absolute path; a copy must not count a step done on the original's files."""
    from taxolab.workflow.stages import outputs_present

    original = tmp_path / "run-a"
    (original / "data" / "mix").mkdir(parents=True)
    (original / "data" / "mix" / "knowledge.jsonl").write_text("{}\n")
    (original / "data" / "leaves").mkdir()
    record = ResumeRecord.claim(original, RUN, "fp", refusal="x")
    mix = {"paths": [str(original / "data" / "mix" / "knowledge.jsonl")], "counts": {"rows": 1}, "note": "other"}
    record.finish("mix", "h1", mix, started=1.0)
    record.finish("generate:leaf", "h2", {"paths": [str(original / "data" / "leaves")]}, started=1.0)

    seeded = tmp_path / "run-b"  # the record and the leaves copied, the mix not (as the bench's --lever seeds a run)
    seeded.mkdir()
    (seeded / RUN).write_text((original / RUN).read_text())
    (seeded / "data" / "leaves").mkdir(parents=True)
    copy = ResumeRecord.load(seeded, RUN)
    assert copy.steps["mix"].outputs["paths"] == [str(seeded / "data" / "mix" / "knowledge.jsonl")]
    assert copy.steps["mix"].outputs["note"] == "other" and copy.steps["mix"].outputs["counts"] == {"rows": 1}
    assert not outputs_present(copy.steps["mix"].outputs)  # the mix runs again, into run-b
    assert outputs_present(copy.steps["generate:leaf"].outputs)

    moved = tmp_path / "run-c"  # the whole folder moved: every step stays done, at its new place
    original.rename(moved)
    again = ResumeRecord.load(moved, RUN)
    assert again.steps["mix"].outputs["paths"] == [str(moved / "data" / "mix" / "knowledge.jsonl")]
    assert outputs_present(again.steps["mix"].outputs)
    assert json.loads((moved / RUN).read_text())["folder"] == str(original)  # until the next write
    again.save()
    assert json.loads((moved / RUN).read_text())["folder"] == str(moved)
