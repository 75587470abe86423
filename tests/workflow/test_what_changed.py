"""One rule for what changed: each setting declares whether it affects results; every fingerprint obeys it.

The faults this guards (issue 13): six hand-kept lists of speed-only settings
disagreed, so a `taxolab run` rerun with only `generate.batch_size` changed
refused to resume, and a changed `train.select_by` retrained from scratch.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from taxolab.config import Config, load_config
from taxolab.config.affects import Affects, affects, fields_by_kind, result_settings
from taxolab.sdg.runs import generation_fingerprint
from taxolab.taxonomy.model import Leaf, LeafKind
from taxolab.training.phases import PlannedPhase, fingerprint
from taxolab.training.settings import TrainSettings
from taxolab.workflow.run import generation_inputs

from .test_run_skipping import EVERYTHING, StandIns, run

SRC = Path(__file__).resolve().parents[2] / "src" / "taxolab"


def sections() -> list[tuple[str, type[BaseModel]]]:
    return [
        (name, info.annotation)
        for name, info in Config.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
    ]


def test_every_setting_declares_a_known_kind_and_the_speed_ones_are_marked() -> None:
    for _, model in sections():
        for name in model.model_fields:
            assert affects(model, name) in set(Affects)  # raises ValueError on an unknown mark
    speed = {name: set(fields_by_kind(model, Affects.SPEED)) for name, model in sections()}
    assert {"batch_size", "concurrency", "endpoint_urls", "executor", "ray_address"} <= speed["generate"]
    assert {"nproc_per_node", "nnodes", "node_rank", "threads", "data_workers", "tensorboard"} <= speed["train"]
    assert {"output_dir", "cache_dir", "concurrency", "device"} <= speed["evaluate"]
    # choosing a checkpoint, and measuring the chosen ones on the dev split, retrain nothing
    assert set(fields_by_kind(TrainSettings, Affects.SELECTION)) == {"select_by", "phase_recall"}
    # Things that change what is computed must never be marked speed-only.
    for section, name in [("generate", "seed"), ("generate", "pipeline"), ("train", "learning_rate"),
                          ("train", "seed"), ("evaluate", "max_tokens"), ("run", "outtype")]:  # fmt: skip
        assert name not in speed[section], f"{section}.{name}"


FINGERPRINTING = ["workflow/*.py", "sdg/runs.py", "sdg/generate.py", "training/phases.py", "training/api.py"]


def test_no_hand_kept_lists_of_speed_only_settings_remain() -> None:
    """The six lists issue 13 found are gone, and no fingerprint picks settings by hand again."""
    names = re.compile(r"SPEED_ONLY|EXECUTION_ONLY|_EVAL_PLACES")
    by_hand = re.compile(r"model_dump\([^)]*(exclude|include)=")
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if names.search(line)
        or (by_hand.search(line) and any(path.match(str(SRC / pattern)) for pattern in FINGERPRINTING))
    ]
    assert offenders == []


def with_value(config: Config, section: str, key: str, value: Any) -> Config:
    updated = getattr(config, section).model_copy(update={key: value})
    return config.model_copy(update={section: updated})


SPEED_CHANGES = [
    ("generate", "batch_size", 8),
    ("generate", "concurrency", 3),
    ("generate", "endpoint_urls", ["http://127.0.0.1:9/v1"]),
    ("generate", "executor", "ray"),
    ("serve", "parallel", 16),
    ("client", "timeout", 5.0),
    ("documents", "offline", True),
]


@pytest.mark.parametrize(("section", "key", "value"), SPEED_CHANGES)
def test_a_speed_only_setting_changes_no_generation_fingerprint(
    section: str, key: str, value: Any, tmp_path: Path
) -> None:
    qna = tmp_path / "leaf" / "qna.yaml"
    qna.parent.mkdir()
    qna.write_text("version: 3\n")
    leaf = _leaf(qna)
    config = load_config(None)
    changed = with_value(config, section, key, value)
    # `data generate`'s run folder check and `taxolab run`'s leaf folder name agree: neither moves.
    assert generation_fingerprint(changed, [leaf], ["p"]) == generation_fingerprint(config, [leaf], ["p"])
    assert generation_inputs(changed, leaf) == generation_inputs(config, leaf)
    # A setting that does change the rows moves both.
    seeded = with_value(config, "generate", "seed", 7)
    assert generation_fingerprint(seeded, [leaf], ["p"]) != generation_fingerprint(config, [leaf], ["p"])
    assert generation_inputs(seeded, leaf) != generation_inputs(config, leaf)


def _leaf(qna: Path) -> Leaf:
    """What the fingerprints read of a leaf: its name, its folder and its kind (which pipeline it runs)."""
    return SimpleNamespace(name="leaf", qna_path=qna, kind=LeafKind.FREEFORM_SKILL)  # type: ignore[return-value]


def test_training_fingerprint_ignores_speed_and_selection_but_not_results(tmp_path: Path) -> None:
    data = tmp_path / "skills_train_msgs_x.jsonl"
    data.write_text('{"messages": []}\n')
    phases = [PlannedPhase("skills", data)]
    base = TrainSettings()
    same = [
        {"nproc_per_node": 8},
        {"threads": 2},
        {"tensorboard": True},
        {"select_by": "val_loss"},
        {"phase_recall": False},
    ]
    for update in same:
        assert fingerprint(tmp_path, phases, base.model_copy(update=update)) == fingerprint(tmp_path, phases, base)
    assert fingerprint(tmp_path, phases, base.model_copy(update={"epochs": 3})) != fingerprint(tmp_path, phases, base)
    assert "select_by" in result_settings(base, selection=True) and "select_by" not in result_settings(base)


def test_a_speed_only_setting_on_a_rerun_of_run_skips_everything(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand = StandIns(monkeypatch)
    run(taxonomy)
    assert stand.take() == EVERYTHING
    run(taxonomy, generate={"batch_size": 8, "concurrency": 2}, train={"threads": 1, "nproc_per_node": 1})
    assert stand.take() == {"report": 1}


def test_select_by_in_run_reselects_in_the_same_training_folder(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand = StandIns(monkeypatch)
    seen: list[tuple[Path, str]] = []
    trained = stand.train_model

    def train_model(config: Any, mix_dir: Path, out_dir: Path, **kwargs: Any) -> dict[str, Any]:
        seen.append((out_dir, config.train.select_by))
        return trained(config, mix_dir, out_dir, **kwargs)

    monkeypatch.setattr("taxolab.workflow.run.train_model", train_model)
    run(taxonomy)
    stand.take()
    run(taxonomy, train={"select_by": "val_loss"})
    # Training is asked again (to choose), in the same folder, so its journal skips the finished phases.
    assert stand.take() == {"train": 1, "evaluate": 1, "convert": 1, "report": 1}
    assert seen[0][0] == seen[1][0]
    assert [select for _, select in seen] == ["auto", "val_loss"]


def test_a_chunk_cap_is_printed_as_a_budget_and_none_is_the_default(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    StandIns(monkeypatch)
    run(taxonomy)
    assert "budget" not in capfd.readouterr().err
    run(taxonomy, run={"max_chunks_per_leaf": 2})
    assert "budget: at most 2 document chunks per knowledge leaf" in capfd.readouterr().err
