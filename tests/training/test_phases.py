"""LAB phases: knowledge then skills from its result, best checkpoint chosen, a journal to resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from training_kit import write_messages

from taxolab.errors import TaxolabError
from taxolab.training.api import train
from taxolab.training.dataset import load_dataset
from taxolab.training.phases import plan_phases
from taxolab.training.settings import TrainSettings

SETTINGS = TrainSettings(
    effective_batch_size=8, learning_rate=1e-3, knowledge_epochs=2, skills_epochs=1, checkpoint_every_samples=8,
    validation_split=0.2, max_batch_len=128,
)  # fmt: skip


@pytest.fixture
def sdg_run(tmp_path: Path) -> Path:
    """An SDG output folder as ``taxolab data generate`` writes it (contract C)."""
    folder = tmp_path / "run1"
    folder.mkdir()
    write_messages(folder / "knowledge_train_msgs_run1.jsonl", 16, seed=5)
    write_messages(folder / "skills_train_msgs_run1.jsonl", 20, seed=6)
    (folder / "manifest.json").write_text("{}")
    return folder


@pytest.mark.slow
def test_multiphase_then_rerun_continues_from_the_journal(sdg_run: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    seen: list[list[Path]] = []

    def pick_first(candidates: list[Path]) -> Path:
        seen.append(candidates)
        return candidates[0]

    out = tmp_path / "train"
    result = train(sdg_run, model_path=tiny_model_dir, output_dir=out, settings=SETTINGS, select_best=pick_first,
                   show_progress=False)  # fmt: skip
    knowledge, skills = result.phases
    assert result.strategy == "lab-multiphase"
    assert (knowledge.name, skills.name) == ("knowledge", "skills")
    assert knowledge.final_dir == out / "phase1_knowledge" / "checkpoints" / "epoch_2"
    candidates = [Path(c["path"]) for c in knowledge.checkpoints]
    assert len(candidates) >= 2
    # the evaluation picks among each phase's checkpoints: phase 2 starts from phase 1's choice
    assert Path(skills.start_model) == candidates[0] != knowledge.final_dir
    assert seen == [candidates, [Path(c["path"]) for c in skills.checkpoints]]
    assert result.final_dir == seen[1][0] and result.selected_by == "evaluation"
    assert result.starts["skills"]["path"] == str(candidates[0])
    assert (out / "phase1_knowledge" / "loss.png").stat().st_size > 1000

    # Interrupted during phase 2: the journal knows phase 1 is done, phase 2 left nothing behind.
    journal = json.loads((out / "training.json").read_text())
    del journal["steps"]["skills"]
    (out / "training.json").write_text(json.dumps(journal))
    shutil.rmtree(out / "phase2_skills")
    phase1_mtime = (knowledge.final_dir / "model.safetensors").stat().st_mtime_ns

    again = train(sdg_run, model_path=tiny_model_dir, output_dir=out, settings=SETTINGS, show_progress=False)
    assert (knowledge.final_dir / "model.safetensors").stat().st_mtime_ns == phase1_mtime  # not retrained
    assert (out / "phase2_skills" / "checkpoints" / "epoch_1" / "model.safetensors").exists()
    assert Path(again.phases[1].start_model) == candidates[0]  # resumed from the start recorded in the journal
    best = min(again.phases[1].checkpoints, key=lambda c: c["val_loss"])
    assert again.final_dir == Path(best["path"]) and again.selected_by == "validation loss"
    assert json.loads((out / "training.json").read_text())["info"]["selected"]["path"] == best["path"]


def test_rerun_with_other_settings_is_refused(sdg_run: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    settings = SETTINGS.model_copy(update={"strategy": "lab-skills-only", "skills_epochs": 1})
    result = train(sdg_run, model_path=tiny_model_dir, output_dir=tmp_path / "t", settings=settings,
                   show_progress=False)  # fmt: skip
    assert [p.name for p in result.phases] == ["skills"]
    changed = settings.model_copy(update={"learning_rate": 5e-4})
    with pytest.raises(TaxolabError, match="other data, model or settings"):
        train(sdg_run, model_path=tiny_model_dir, output_dir=tmp_path / "t", settings=changed, show_progress=False)


def test_a_knowledge_only_folder_trains_the_knowledge_phase_alone(
    sdg_run: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No skills mix (a knowledge-only taxonomy): one phase with the knowledge_* settings, its choice the result."""
    (sdg_run / "skills_train_msgs_run1.jsonl").unlink()
    settings = SETTINGS.model_copy(update={"epochs": 1, "knowledge_learning_rate": 2e-3})
    result = train(sdg_run, model_path=tiny_model_dir, output_dir=tmp_path / "t", settings=settings,
                   select_best=lambda found: found[0], show_progress=False)  # fmt: skip
    (knowledge,) = result.phases
    assert result.strategy == "lab-knowledge-only" and knowledge.name == "knowledge"
    assert knowledge.epochs == settings.knowledge_epochs == 2  # not the general `epochs`
    rates = [json.loads(line)["lr"] for line in (tmp_path / "t" / "phase1_knowledge" / "metrics.jsonl").open()]
    assert max(rates) == pytest.approx(2e-3)  # knowledge_learning_rate, not the general learning_rate
    assert result.final_dir == Path(knowledge.checkpoints[0]["path"]) and result.selected_by == "evaluation"
    assert "training the knowledge phase alone (lab-knowledge-only): the data has no skills mix" in (
        capsys.readouterr().err
    )


def test_strategy_follows_the_data(sdg_run: Path, tmp_path: Path) -> None:
    assert plan_phases(sdg_run, "auto")[0] == "lab-multiphase"
    (sdg_run / "skills_train_msgs_run1.jsonl").rename(tmp_path / "skills.jsonl")
    assert plan_phases(sdg_run, "auto")[0] == "lab-knowledge-only"
    with pytest.raises(TaxolabError, match="no skills_train_msgs"):
        plan_phases(sdg_run, "lab-skills-only")
    (tmp_path / "skills.jsonl").rename(sdg_run / "skills_train_msgs_run1.jsonl")
    (sdg_run / "knowledge_train_msgs_run1.jsonl").unlink()
    assert plan_phases(sdg_run, "auto")[0] == "lab-skills-only"
    with pytest.raises(TaxolabError, match="no knowledge_train_msgs"):
        plan_phases(sdg_run, "lab-knowledge-only")
    one_file = sdg_run / "skills_train_msgs_run1.jsonl"
    assert plan_phases(one_file, "auto") == ("single", plan_phases(one_file, "single")[1])
    with pytest.raises(TaxolabError, match="needs both"):
        plan_phases(sdg_run, "lab-multiphase")
    with pytest.raises(TaxolabError, match="no such data"):
        plan_phases(tmp_path / "missing", "auto")


def test_changed_select_by_reselects_without_retraining(sdg_run: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    """`select_by` only chooses among finished checkpoints: a rerun re-selects, and val_loss beats a selector."""
    settings = SETTINGS.model_copy(update={"strategy": "lab-skills-only", "skills_epochs": 1})
    out = tmp_path / "t"
    first = train(sdg_run, model_path=tiny_model_dir, output_dir=out, settings=settings,
                  select_best=lambda found: found[0], show_progress=False)  # fmt: skip
    assert first.selected_by == "evaluation"
    weights = sorted(out.glob("phase1_skills/checkpoints/*/model.safetensors"))
    stamps = [w.stat().st_mtime_ns for w in weights]
    assert len(weights) >= 2

    def refuse(found: list[Path]) -> Path:
        raise AssertionError("select_by=val_loss was overridden by the evaluation selector")

    again = train(sdg_run, model_path=tiny_model_dir, output_dir=out,
                  settings=settings.model_copy(update={"select_by": "val_loss"}), select_best=refuse,
                  show_progress=False)  # fmt: skip
    assert [w.stat().st_mtime_ns for w in weights] == stamps  # nothing retrained
    best = min(again.phases[0].checkpoints, key=lambda c: c["val_loss"])
    assert again.selected_by == "validation loss" and again.final_dir == Path(best["path"])
    assert json.loads((out / "training.json").read_text())["info"]["selected"]["by"] == "validation loss"


def test_the_knowledge_token_budget_lowers_the_epochs_of_a_large_mix() -> None:
    settings = TrainSettings(epochs=1, knowledge_epochs=8, knowledge_token_budget=10_000)
    assert settings.phase_epochs("knowledge", 1_000) == 8  # a small mix keeps its epochs
    assert settings.phase_epochs("knowledge", 3_000) == 3  # 10,000 // 3,000
    assert settings.phase_epochs("knowledge", 20_000) == 1  # at least one
    assert settings.phase_epochs("skills", 20_000) == 1 == settings.phase_epochs("skills", 10)  # never the skills
    assert TrainSettings(knowledge_epochs=2).phase_epochs("knowledge", 10**9) == 2  # 0: no budget


def test_the_budget_never_leaves_fewer_than_the_knowledge_min_epochs() -> None:
    # cpu-small's rule: short documents get up to 6 epochs, long ones keep 4 (docs/train.md)
    settings = TrainSettings(knowledge_epochs=6, knowledge_min_epochs=4, knowledge_token_budget=300_000)
    assert settings.phase_epochs("knowledge", 27_000) == 6  # zebu: 300k // 27k = 11, at most 6
    assert settings.phase_epochs("knowledge", 55_000) == 5
    assert settings.phase_epochs("knowledge", 65_000) == 4  # chickadee: 300k // 65k = 4
    assert settings.phase_epochs("knowledge", 200_000) == 4  # a long document: the floor, not 1
    assert (
        TrainSettings(knowledge_epochs=2, knowledge_min_epochs=4, knowledge_token_budget=1).phase_epochs(
            "knowledge", 10**6
        )
        == 2
    )  # the floor never raises the epochs asked for


def test_a_large_knowledge_mix_trains_fewer_epochs(sdg_run: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    tokens = sum(load_dataset(next(sdg_run.glob("knowledge_*.jsonl")), tiny_model_dir, max_seq_len=1024).lengths)
    settings = SETTINGS.model_copy(
        update={"strategy": "lab-multiphase", "knowledge_epochs": 3, "knowledge_token_budget": 2 * tokens + 1,
                "checkpoint_every_samples": 0}
    )  # fmt: skip
    result = train(sdg_run, model_path=tiny_model_dir, output_dir=tmp_path / "t", settings=settings,
                   select_best=lambda c: c[-1], show_progress=False)  # fmt: skip
    assert [c["name"] for c in result.phases[0].checkpoints] == ["epoch_1", "epoch_2"]
    assert [c["name"] for c in result.phases[1].checkpoints] == ["epoch_1"]
