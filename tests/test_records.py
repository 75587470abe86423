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
