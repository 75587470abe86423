"""`run_workflow`'s dependency hashing, with stand-in stage bodies (real taxonomy, real git, no models).

What must hold: a rerun skips everything; editing one leaf regenerates that
leaf only and redoes what depends on the data; a training crash resumes at
training; a training setting reruns training and what follows, not data.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from taxolab.workflow import run as run_module
from taxolab.workflow.profiles import load_run_config, resolve_profile
from taxolab.workflow.run import RunOptions, run_workflow

KNOWLEDGE = "knowledge/science/animals/birds/black_capped_chickadee"
SKILL = "compositional_skills/linguistics/synonyms"


class StandIns:
    """Replace each stage body with a quick one that records its call and writes its outputs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_training = False
        for name in ("generate_leaf", "mix_leaves", "train_model", "evaluate_models", "convert_model"):
            monkeypatch.setattr(run_module, name, getattr(self, name))
        monkeypatch.setattr(run_module, "_report", self.report)

    def generate_leaf(self, teacher: Any, leaf: Any, folder: Path, **_: Any) -> dict[str, Any]:
        self.calls[f"generate:{leaf.name.split('_')[0]}"] += 1
        out = folder / "generated" / f"{leaf.name}.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"question": leaf.qna_path.read_text()[-40:]}) + "\n")
        return {"paths": [str(folder)], "folder": str(folder), "counts": {}}

    def mix_leaves(self, items: list[Any], out_dir: Path, run_name: str, config: Any, **_: Any) -> dict[str, Any]:
        self.calls["mix"] += 1
        out_dir.mkdir(parents=True, exist_ok=True)
        mix = out_dir / f"skills_train_msgs_{run_name}.jsonl"
        mix.write_text("".join((item.folder / "generated" / f"{item.leaf.name}.jsonl").read_text() for item in items))
        return {"paths": [str(out_dir), str(mix)], "folder": str(out_dir)}

    def train_model(self, config: Any, mix_dir: Path, out_dir: Path, **_: Any) -> dict[str, Any]:
        self.calls["train"] += 1
        if self.fail_training:
            raise RuntimeError("killed during training")
        final = out_dir / "final"
        final.mkdir(parents=True, exist_ok=True)
        return {"paths": [str(final)], "final_dir": str(final)}

    def evaluate_models(self, config: Any, trained: Path, *, out_dir: Path, **_: Any) -> dict[str, Any]:
        self.calls["evaluate"] += 1
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "results.json").write_text("{}")
        return {"paths": [str(out_dir / "results.json")], "results": str(out_dir / "results.json")}

    def convert_model(self, trained: Path, target: Path, outtype: str) -> dict[str, Any]:
        self.calls["convert"] += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"GGUF")
        return {"paths": [str(target)], "gguf": str(target)}

    def report(self, layout: Any, *_: Any) -> dict[str, Any]:
        self.calls["report"] += 1
        layout.report.write_text("<html></html>")
        return {"paths": [str(layout.report)]}

    def take(self) -> dict[str, int]:
        calls = dict(self.calls)
        self.calls.clear()
        return calls


def run(taxonomy: Path, **sections: Any) -> Any:
    """``taxolab run`` with the cpu-small profile and ``--set`` overrides, e.g. ``train={"seed": 1}``."""
    profile = resolve_profile("cpu-small")
    config = load_run_config(None, profile, sections)
    return run_workflow(config, RunOptions(taxonomy, "auto", profile, show_progress=False))


EVERYTHING = {
    "generate:knowledge": 1,
    "generate:compositional": 1,
    "mix": 1,
    "train": 1,
    "evaluate": 1,
    "convert": 1,
    "report": 1,
}


def test_rerun_skips_every_stage(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = StandIns(monkeypatch)
    first = run(taxonomy)
    assert stand.take() == EVERYTHING
    second = run(taxonomy)
    assert stand.take() == {"report": 1}
    assert first.run_dir == second.run_dir
    assert [s.skipped for s in second.stages] == [False, True, True, True, True, True, True, False]


def test_editing_one_leaf_regenerates_only_that_leaf(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = StandIns(monkeypatch)
    run(taxonomy)
    stand.take()
    qna = taxonomy / SKILL / "qna.yaml"
    qna.write_text(qna.read_text() + "# reviewed\n")
    run(taxonomy)
    assert stand.take() == {k: v for k, v in EVERYTHING.items() if k != "generate:knowledge"}


def test_training_crash_resumes_at_training(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = StandIns(monkeypatch)
    stand.fail_training = True
    with pytest.raises(RuntimeError):
        run(taxonomy)
    assert stand.take() == {"generate:knowledge": 1, "generate:compositional": 1, "mix": 1, "train": 1}
    stand.fail_training = False
    run(taxonomy)
    assert stand.take() == {"train": 1, "evaluate": 1, "convert": 1, "report": 1}


def test_training_setting_reruns_training_and_after(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = StandIns(monkeypatch)
    run(taxonomy)
    stand.take()
    run(taxonomy, train={"learning_rate": 1e-4})
    assert stand.take() == {"train": 1, "evaluate": 1, "convert": 1, "report": 1}


def test_a_deleted_model_is_converted_again(taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand = StandIns(monkeypatch)
    result = run(taxonomy)
    stand.take()
    result.gguf.unlink()
    run(taxonomy)
    assert stand.take() == {"convert": 1, "report": 1}
