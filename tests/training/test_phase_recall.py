"""Recall on the dev split after each phase: scored once per checkpoint, kept in the journal, tested for lost facts.

The training runs are real (a tiny random-weight Llama with the default model's
tokenizer) and so is the scoring: the recall selector answers the dev pairs by
greedy generation with each checkpoint's weights. Only the counting wrapper
around the selector's scoring function is added, to see what was scored when.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from training_kit import write_messages

from taxolab.cli.main import main
from taxolab.evaluation.selection import DevScore, DevSelector, dev_selector
from taxolab.evaluation.stats import mcnemar_exact
from taxolab.training.api import train
from taxolab.training.phase_recall import PhaseFigure, summarize
from taxolab.training.settings import TrainSettings

# one checkpoint per epoch: knowledge has two (chosen by dev recall), skills one (taken without scoring)
SETTINGS = TrainSettings(
    effective_batch_size=8, learning_rate=1e-3, knowledge_epochs=2, skills_epochs=1, validation_split=0.2,
    max_batch_len=128,
)  # fmt: skip
DEV_PAIRS = [
    {"question": "Where does the chickadee nest?", "answer": "Chickadees nest in tree cavities.", "leaf": "birds"},
    {"question": "What does the chickadee eat?", "answer": "Chickadees eat insects and seeds.", "leaf": "birds"},
    {"question": "How heavy is a chickadee?", "answer": "A chickadee weighs about 11 grams.", "leaf": "birds"},
]


@pytest.fixture
def data_run(tmp_path: Path) -> Path:
    """An SDG output folder with both mixes and a dev split of held-out pairs."""
    folder = tmp_path / "run1"
    folder.mkdir()
    write_messages(folder / "knowledge_train_msgs_run1.jsonl", 16, seed=5)
    write_messages(folder / "skills_train_msgs_run1.jsonl", 12, seed=6)
    (folder / "dev" / "heldout").mkdir(parents=True)
    (folder / "dev" / "heldout" / "birds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in DEV_PAIRS))
    return folder


def counted(selector: DevSelector) -> list[Path]:
    """Wrap the selector's real scoring so every checkpoint it scores is listed."""
    scored: list[Path] = []
    real: Callable[[Path], tuple[bool, ...]] = selector.score

    def score(checkpoint: Path) -> tuple[bool, ...]:
        scored.append(Path(checkpoint))
        return real(checkpoint)

    selector.score = score
    return scored


def test_each_phase_is_scored_once_and_the_figures_survive_a_rerun(
    data_run: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    selector = dev_selector(data_run, "recall", max_tokens=4)
    assert selector is not None
    scored = counted(selector)
    out = tmp_path / "train"
    result = train(data_run, model_path=tiny_model_dir, output_dir=out, settings=SETTINGS, select_best=selector,
                   show_progress=False)  # fmt: skip
    knowledge, skills = result.phases
    assert len(knowledge.checkpoints) == 2 and len(skills.checkpoints) == 1
    # selection scored both knowledge checkpoints; the recall after each phase added only the lone skills one
    assert sorted(scored) == sorted([Path(c["path"]) for c in knowledge.checkpoints] + [result.final_dir])
    assert result.selected_by == "only checkpoint"
    recall = result.phase_recall
    figures = {figure["phase"]: figure for figure in recall["phases"]}
    assert figures["knowledge"]["checkpoint"] == skills.start_model == result.starts["skills"]["path"]
    assert figures["skills"]["checkpoint"] == str(result.final_dir)
    assert figures["knowledge"]["purpose"] == "selection" and figures["skills"]["purpose"] == "phase recall"
    assert recall["seconds"] == figures["skills"]["seconds"] > 0
    for figure in figures.values():
        assert figure["n"] == len(DEV_PAIRS) and 0 <= figure["learned"] <= len(DEV_PAIRS)
        low, high = figure["interval"]
        assert 0 <= low <= figure["rate"] <= high <= 1
    assert recall["lines"][0] == (
        f"recall on the dev split after knowledge: {figures['knowledge']['learned']} of 3; "
        f"after skills: {figures['skills']['learned']} of 3"
    )
    assert recall["comparison"]["test"] == "exact McNemar"
    assert result.to_json()["phase_recall"] == recall  # what `model train --json` and the run's record hold

    # every score is in the journal beside its checkpoint, with its answers per dev question
    journal = json.loads((out / "training.json").read_text())
    entries = [c["dev"]["recall"] for step in journal["steps"].values() for c in step["outputs"]["checkpoints"]]
    assert len(entries) == 3 and all(len(e["per_question"]) == 3 and e["key"] == selector.key for e in entries)

    # a rerun (a new process: a fresh selector) scores nothing and reports the same figures
    again = dev_selector(data_run, "recall", max_tokens=4)
    assert again is not None
    rescored = counted(again)
    second = train(data_run, model_path=tiny_model_dir, output_dir=out, settings=SETTINGS, select_best=again,
                   show_progress=False)  # fmt: skip
    assert rescored == [] and second.phase_recall == recall

    # answers asked another way (other max_tokens) are other scores: not taken from the journal
    other = dev_selector(data_run, "recall", max_tokens=5)
    assert other is not None and other.key != selector.key
    fresh = counted(other)
    third = train(data_run, model_path=tiny_model_dir, output_dir=out, settings=SETTINGS, select_best=other,
                  show_progress=False)  # fmt: skip
    assert sorted(fresh) == sorted([Path(skills.start_model), result.final_dir])  # the start stays chosen
    assert len(third.phase_recall["phases"]) == 2


def test_phase_recall_can_be_turned_off_and_says_why_it_is_missing(
    data_run: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    settings = SETTINGS.model_copy(update={"strategy": "lab-skills-only", "select_by": "val_loss"})
    off = train(data_run, model_path=tiny_model_dir, output_dir=tmp_path / "a",
                settings=settings.model_copy(update={"phase_recall": False}), show_progress=False)  # fmt: skip
    assert off.phase_recall["skipped"] == "train.phase_recall is off"
    assert off.phase_recall["lines"] == ["recall after each phase not measured: train.phase_recall is off"]

    # select_by val_loss: no selector, but the recall after the phase is still measured on dev
    on = train(data_run, model_path=tiny_model_dir, output_dir=tmp_path / "b", settings=settings,
               show_progress=False)  # fmt: skip
    assert on.selected_by == "validation loss"
    assert [f["phase"] for f in on.phase_recall["phases"]] == ["skills"]
    assert on.phase_recall["lines"][0].startswith("recall on the dev split after skills: ")
    assert on.phase_recall["comparison"] is None

    for part in (data_run / "dev").rglob("*.jsonl"):
        part.unlink()
    none = train(data_run, model_path=tiny_model_dir, output_dir=tmp_path / "b", settings=settings,
                 show_progress=False)  # fmt: skip
    assert "no dev split of held-out pairs" in none.phase_recall["skipped"]


def figure(phase: str, right: str) -> PhaseFigure:
    return PhaseFigure(phase, Path(f"/ckpt/{phase}"), DevScore(tuple(c == "1" for c in right), 2.0, "phase recall"))


def test_a_drop_beyond_chance_says_the_skills_phase_lost_facts_and_what_to_change() -> None:
    knowledge = "111111111100"  # 10 of 12
    lost = summarize([figure("knowledge", knowledge), figure("skills", "100000000100")], "recall (12 pairs)")
    assert mcnemar_exact(only_trained=0, only_base=8) < 0.05
    assert lost["lines"][0] == "recall on the dev split after knowledge: 10 of 12; after skills: 2 of 12"
    assert lost["comparison"] == {
        "test": "exact McNemar", "p_value": pytest.approx(mcnemar_exact(0, 8)), "kept": 2, "lost": 8, "gained": 0,
        "neither": 2, "change": "worse",
    }  # fmt: skip
    assert lost["lost_facts"] and lost["warning"] == lost["lines"][-1]
    assert "the skills phase lost facts" in lost["warning"] and "mix.knowledge_replay" in lost["warning"]
    assert lost["lines"][1] == "95% Wilson intervals: after knowledge 55%-95%, after skills 5%-45%"
    assert (
        lost["lines"][2]
        == "from knowledge to skills: 8 lost, 0 gained, 2 kept of 12 dev questions (exact McNemar p=0.008)"
    )
    assert lost["seconds"] == 4.0

    # two facts lost, one gained: within chance, no warning
    close = summarize([figure("knowledge", knowledge), figure("skills", "111111110010")], "recall (12 pairs)")
    assert close["lines"][0] == "recall on the dev split after knowledge: 10 of 12; after skills: 9 of 12"
    assert not close["lost_facts"] and close["warning"] is None and len(close["lines"]) == 3
    # more facts after skills is never a warning, however large
    gained = summarize([figure("knowledge", "000000000000"), figure("skills", knowledge)], "recall")
    assert gained["comparison"]["change"] == "improved" and gained["warning"] is None


def test_model_train_prints_the_figures_and_its_json_holds_them(
    data_run: Path, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["model", "train", "--data-path", str(data_run), "--model-path", str(tiny_model_dir), "--output-dir",
            str(tmp_path / "out"), "--strategy", "lab-skills-only", "--effective-batch-size", "8", "--max-seq-len",
            "256", "--select-by", "last"]  # fmt: skip
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "recall on the dev split after skills: " in shown and " of 3" in shown
    assert "95% Wilson intervals: after skills " in shown
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["phase_recall"]["phases"][0]["n"] == 3 and result["phase_recall"]["lines"][0] in shown

    messages = write_messages(tmp_path / "one.jsonl", 8, seed=3)
    one = [*args[:2], "--data-path", str(messages), *args[4:6], "--output-dir", str(tmp_path / "one"), *args[8:]]
    assert main([*one, "--strategy", "single"]) == 0
    assert "recall after each phase not measured: " in capsys.readouterr().out
