"""Checkpoint selection reads the dev split only: the test split the report scores is never opened.

The data run's test split files hold lines that are not JSON (any read of them
raises), and every way of opening a file is watched for a path inside the test
split, so a selector that read it would fail the test either way. The models
are tiny random-weight Llamas with the default model's real tokenizer.
"""

from __future__ import annotations

import builtins
import io
import json
import pathlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxolab.config import load_config
from taxolab.errors import TaxolabError
from taxolab.evaluation.loglik import load_scorer
from taxolab.evaluation.mmlu_branch import accuracy, load_questions
from taxolab.evaluation.selection import DevScore, DevSelector, beats_beyond_chance, dev_selector
from taxolab.training.api import _evaluation_selector
from taxolab.training.settings import TrainSettings
from taxolab.workflow.model_steps import checkpoint_selector

HELD_OUT = [
    {"question": "Where does the chickadee nest?", "answer": "Chickadees nest in tree cavities.", "leaf": "birds"},
    {"question": "What does the chickadee eat?", "answer": "Chickadees eat insects and seeds.", "leaf": "birds"},
]


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def data_run(tmp_path: Path, mcq_rows: list[dict[str, Any]]) -> Path:
    """A mix folder with both splits; the test split's files are not even JSON."""
    run = tmp_path / "mix"
    write(run / "dev" / "test" / "birds.jsonl", [{**row, "leaf": "birds"} for row in mcq_rows])
    write(run / "dev" / "heldout" / "birds.jsonl", HELD_OUT)
    for part in ("test", "heldout"):
        (run / part).mkdir(parents=True)
        (run / part / "birds.jsonl").write_text("the test split: reading this line is a bug\n", encoding="utf-8")
    return run


@pytest.fixture
def test_split_sealed(data_run: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every open of a file under the test split raises; returns the paths that were attempted."""
    sealed = [(data_run / "test").resolve(), (data_run / "heldout").resolve()]
    attempts: list[Path] = []

    def guard(file: Any) -> None:
        if isinstance(file, (str, pathlib.PurePath)):
            path = Path(file).resolve()
            if any(path == root or root in path.parents for root in sealed):
                attempts.append(path)
                raise AssertionError(f"selection opened the test split: {path}")

    def watched(real: Callable[..., Any]) -> Callable[..., Any]:
        def opener(file: Any, *args: Any, **kwargs: Any) -> Any:
            guard(file)
            return real(file, *args, **kwargs)

        return opener

    real_path_open = pathlib.Path.open

    def path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        guard(self)
        return real_path_open(self, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watched(builtins.open))
    monkeypatch.setattr(io, "open", watched(io.open))
    monkeypatch.setattr(pathlib.Path, "open", path_open)
    return attempts


def test_mmlu_branch_selection_reads_dev_only_and_picks_the_best_on_dev(
    data_run: Path, tiny_models: list[Path], test_split_sealed: list[Path]
) -> None:
    selector = dev_selector(data_run, "mmlu_branch")
    assert isinstance(selector, DevSelector)
    assert selector.description == "mmlu_branch accuracy on the dev split (5 questions)"
    questions = load_questions([data_run / "dev" / "test" / "birds.jsonl"])
    scores = [accuracy(load_scorer(model), questions) for model in tiny_models]
    assert [round(selector.scored(model).value, 6) for model in tiny_models] == [round(s, 6) for s in scores]
    # 5 dev questions: no checkpoint can beat the last beyond chance (5 of 5 discordant gives p=0.0625).
    assert selector(list(tiny_models)) == tiny_models[-1]
    assert test_split_sealed == []
    with pytest.raises(AssertionError, match="opened the test split"):  # the seal is live
        load_questions([data_run / "test" / "birds.jsonl"])


def test_recall_selection_answers_dev_pairs_with_the_checkpoint_weights(
    data_run: Path, tiny_models: list[Path], test_split_sealed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taxolab.evaluation.loglik import LoglikScorer

    asked: list[list[str]] = []
    real_answer = LoglikScorer.answer

    def answer(self: LoglikScorer, conversations: Any, **kwargs: Any) -> list[str]:
        asked.append([conv[-1]["content"] for conv in conversations])
        assert conversations[0][0] == {"role": "system", "content": "You are a bird expert."}
        answers = real_answer(self, conversations, **kwargs)
        assert len(answers) == len(conversations) and all(isinstance(a, str) for a in answers)
        return answers

    monkeypatch.setattr(LoglikScorer, "answer", answer)
    selector = dev_selector(data_run, "recall", system_prompt="You are a bird expert.", max_tokens=8)
    assert selector is not None and selector.description == "recall on the dev split (2 held-out pairs)"
    auto = dev_selector(data_run, "auto")  # recall, the report's headline, when dev has held-out pairs
    assert auto is not None and auto.description == selector.description
    chosen = selector(list(tiny_models[:2]))
    assert chosen in tiny_models[:2]
    assert asked == [[pair["question"] for pair in HELD_OUT]] * 2
    assert test_split_sealed == []


def test_the_run_builds_its_selector_on_dev(data_run: Path, test_split_sealed: list[Path]) -> None:
    config = load_config(
        None,
        {"train": {"select_by": "recall"}, "models": {"system_prompt": "Be brief."}, "evaluate": {"batch_size": 2}},
    )
    selector = checkpoint_selector(config, data_run)
    assert isinstance(selector, DevSelector) and "dev split" in selector.description
    assert (
        checkpoint_selector(config.model_copy(update={"train": TrainSettings(select_by="val_loss")}), data_run) is None
    )
    assert test_split_sealed == []


def test_without_a_dev_split_the_test_split_never_chooses(tmp_path: Path, mcq_rows: list[dict[str, Any]]) -> None:
    """An older data run (test questions, no dev/): validation loss decides; naming a benchmark is an error."""
    run = tmp_path / "old"
    write(run / "test" / "birds.jsonl", [{**row, "leaf": "birds"} for row in mcq_rows])
    assert dev_selector(run, "auto") is None
    assert _evaluation_selector(run, TrainSettings(select_by="auto")) is None
    with pytest.raises(TaxolabError, match=r"old/dev/test: --select-by mmlu_branch needs the data run's dev split"):
        _evaluation_selector(run, TrainSettings(select_by="mmlu_branch"))


def test_each_checkpoint_is_scored_once_and_its_answers_are_kept_per_dev_question(
    data_run: Path, tiny_models: list[Path], test_split_sealed: list[Path]
) -> None:
    """The scores selection takes are what the recall after each phase reuses (taxolab.training.phase_recall)."""
    selector = dev_selector(data_run, "mmlu_branch")
    assert selector is not None and selector.measure == "mmlu_branch"
    calls: list[Path] = []
    real = selector.score

    def score(checkpoint: Path) -> tuple[bool, ...]:
        calls.append(checkpoint)
        return real(checkpoint)

    selector.score = score
    chosen = selector(list(tiny_models))
    assert selector(list(tiny_models)) == chosen and calls == list(tiny_models)  # a second choice scores nothing
    questions = load_questions([data_run / "dev" / "test" / "birds.jsonl"])
    for model in tiny_models:
        kept = selector.scored(model, purpose="phase recall")
        assert kept.purpose == "selection" and kept.n == len(questions) and kept.seconds > 0
        assert kept.value == accuracy(load_scorer(model), questions)  # the same figure, per question
    assert calls == list(tiny_models)
    assert test_split_sealed == []


def test_a_dev_score_comes_back_from_the_journal_only_for_the_same_questions_asked_the_same_way(
    data_run: Path,
) -> None:
    score = DevScore((True, False, True), 1.5, "phase recall")
    recorded = score.to_json("k")
    assert {k: recorded[k] for k in ("right", "n", "per_question", "key")} == {
        "right": 2, "n": 3, "per_question": "101", "key": "k"
    }  # fmt: skip
    assert DevScore.from_json(json.loads(json.dumps(recorded))) == score
    with pytest.raises(ValueError, match="not a per-question record"):
        DevScore.from_json({**recorded, "n": 4})

    def key(how: Any = "recall", **asked: Any) -> str:
        selector = dev_selector(data_run, how, **asked)
        assert selector is not None
        return selector.key

    same = key(max_tokens=8)
    assert same == key(max_tokens=8)
    assert len({same, key(max_tokens=9), key(max_tokens=8, system_prompt="Be brief."), key("mmlu_branch")}) == 4
    write(data_run / "dev" / "heldout" / "birds.jsonl", HELD_OUT[:1])  # other dev questions
    assert key(max_tokens=8) != same


def flags(text: str) -> tuple[bool, ...]:
    return tuple(c == "1" for c in text)


@pytest.mark.parametrize(
    ("per_checkpoint", "chosen"),
    [
        # The lapis lazuli run (8 epochs, 9 dev pairs): epoch 2 had 4/9, the last 3/9 -> keep the last.
        (["000000000", "110110000", "110000000", "101100000"], 3),
        # An earlier checkpoint right on 7 questions the last misses, the last on none it misses: p=0.016.
        (["1111111000", "0000000000"], 0),
        # Two earlier checkpoints beat the last: the higher score wins; at equal scores the later one.
        (["1111111100", "1111111110", "1111111110", "0000000000"], 2),
        # More right than the last, but the discordant questions split 7 to 3 (p=0.34): keep the last.
        (["1111111000000", "0000000111000"], 1),
    ],
)
def test_the_last_checkpoint_is_kept_unless_an_earlier_one_is_better_beyond_chance(
    per_checkpoint: list[str], chosen: int
) -> None:
    table = {Path(f"/ckpt/epoch_{i + 1}"): flags(text) for i, text in enumerate(per_checkpoint)}
    selector = DevSelector("recall on the dev split", lambda path: table[path])
    assert selector(list(table)) == list(table)[chosen]
    assert all(selector.known(path) is not None for path in table)  # all scored: the report shows each epoch


def test_beats_beyond_chance_is_the_exact_mcnemar_test() -> None:
    last = DevScore(flags("0000000000"))
    assert beats_beyond_chance(DevScore(flags("1111110000")), last) == pytest.approx(0.03125)  # 6 of 6
    assert beats_beyond_chance(DevScore(flags("1111100000")), last) is None  # 5 of 5: p=0.0625
    assert beats_beyond_chance(last, DevScore(flags("1111110000"))) is None  # worse is never "better"
    with pytest.raises(ValueError, match="one result per question from each model: 10 vs 1"):
        beats_beyond_chance(DevScore(flags("1")), last)
