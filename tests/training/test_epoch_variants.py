"""Samples tagged with an epoch variant (mix.epoch_variants) are trained only in their epochs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from training_kit import conversation

from taxolab.training import trainer
from taxolab.training.api import train
from taxolab.training.dataset import load_dataset
from taxolab.training.metrics import read_metrics
from taxolab.training.settings import TrainSettings


def write_variant_rows(path: Path, per_group: int) -> Path:
    """``per_group`` untagged rows, then as many tagged [0, 2] and [1, 2]."""
    rng = random.Random(0)
    rows: list[dict[str, Any]] = []
    for variant in (None, [0, 2], [1, 2]):
        for _ in range(per_group):
            row: dict[str, Any] = {"messages": conversation(rng, 1, 12)}
            if variant is not None:
                row["variant"] = variant
            rows.append(row)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_epoch_indices_keep_untagged_samples_and_the_epochs_own_variant(
    tmp_path: Path, chat_tokenizer_dir: Path
) -> None:
    data = load_dataset(write_variant_rows(tmp_path / "d.jsonl", 3), chat_tokenizer_dir, max_seq_len=512)
    assert [s.variant for s in data.samples] == [None] * 3 + [(0, 2)] * 3 + [(1, 2)] * 3
    assert data.epoch_indices(0) == data.epoch_indices(2) == [0, 1, 2, 3, 4, 5]
    assert data.epoch_indices(1) == data.epoch_indices(3) == [0, 1, 2, 6, 7, 8]


@pytest.mark.parametrize("variant", [[2, 2], [-1, 2], [0], "0/2", [0, 0], [True, 2]])
def test_a_bad_variant_drops_the_row_with_its_reason(tmp_path: Path, chat_tokenizer_dir: Path, variant: Any) -> None:
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "variant": variant}) + "\n", encoding="utf-8")
    data = load_dataset(path, chat_tokenizer_dir, max_seq_len=512)
    assert len(data.samples) == 1
    assert data.dropped == {"`variant` must be [index, count] with 0 <= index < count": 1}
    assert data.bad_lines == {"`variant` must be [index, count] with 0 <= index < count": [2]}


def test_each_epoch_trains_its_own_variant_and_the_schedule_counts_the_epochs_samples(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_variant_rows(tmp_path / "d.jsonl", 8)
    seen: list[set[Any]] = []
    real_step = trainer._train_step

    def recording_step(ctx: Any, batch: list[int], dataset: Any) -> dict[str, float]:
        seen.append({dataset.samples[i].variant for i in batch})
        return real_step(ctx, batch, dataset)

    monkeypatch.setattr(trainer, "_train_step", recording_step)
    settings = TrainSettings(effective_batch_size=4, epochs=2, learning_rate=1e-3, validation_split=0.0,
                             max_batch_len=128, device="cpu", threads=1)  # fmt: skip
    result = train(data, model_path=tiny_model_dir, output_dir=tmp_path / "out", settings=settings,
                   show_progress=False)  # fmt: skip
    rows = read_metrics(result.phases[0].metrics_file)
    assert len(rows) == len(seen) == 8  # 16 samples per epoch (8 untagged + 8 of the epoch's variant), batches of 4
    assert set().union(*seen[:4]) == {None, (0, 2)} and set().union(*seen[4:]) == {None, (1, 2)}
    assert rows[-1]["samples_seen"] == 32 and rows[3]["epoch"] == 1.0 and rows[-1]["epoch"] == 2.0


def test_the_phase_says_how_many_samples_each_epoch_trains(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_variant_rows(tmp_path / "d.jsonl", 4)
    settings = TrainSettings(effective_batch_size=4, epochs=2, learning_rate=1e-3, validation_split=0.0,
                             max_batch_len=128, device="cpu", threads=1)  # fmt: skip
    train(data, model_path=tiny_model_dir, output_dir=tmp_path / "out", settings=settings, show_progress=False)
    assert "12 samples from d.jsonl (8 per epoch: epoch variants)" in capsys.readouterr().err


def test_a_phase_whose_rows_all_belong_to_other_epochs_is_an_error_not_an_empty_run(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from taxolab.errors import TaxolabError

    row = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        "variant": [1, 2],
    }
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    settings = TrainSettings(epochs=1, validation_split=0.0, device="cpu", threads=1)
    with pytest.raises(TaxolabError, match=r"d.jsonl: no sample is trained in the phase's 1 epoch"):
        train(data, model_path=tiny_model_dir, output_dir=tmp_path / "out", settings=settings, show_progress=False)
