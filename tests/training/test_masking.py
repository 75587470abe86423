"""Assistant-only loss masks from the real chat template, per sample kind; dataset drops and cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxolab.training.dataset import load_dataset, load_tokenizer
from taxolab.training.preview import render_preview
from taxolab.training.tokenize import TokenizedSample, tokenize_sample


@pytest.fixture(scope="module")
def tokenizer(chat_tokenizer_dir: Path) -> Any:
    return load_tokenizer(chat_tokenizer_dir)


def trained_text(tokenizer: Any, sample: TokenizedSample) -> list[str]:
    """The trained tokens decoded, one string per contiguous run."""
    runs: list[list[int]] = []
    previous = False
    for token, mask in zip(sample.input_ids, sample.loss_mask, strict=True):
        if mask and not previous:
            runs.append([])
        if mask:
            runs[-1].append(token)
        previous = mask
    return [tokenizer.decode(run) for run in runs]


def test_single_turn_trains_only_the_answer_and_its_end_of_turn(tokenizer: Any) -> None:
    row = {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "It is 4."}]}
    sample = tokenize_sample(tokenizer, row)
    rendered = tokenizer.apply_chat_template(row["messages"], tokenize=False)
    assert tokenizer.decode(sample.input_ids) == rendered  # the model's own template, untouched
    assert trained_text(tokenizer, sample) == ["It is 4.<|im_end|>"]


def test_system_prompt_and_multi_turn(tokenizer: Any) -> None:
    row = {
        "messages": [
            {"role": "system", "content": "You answer tersely."},
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "Another?"},
            {"role": "assistant", "content": "Green, of course."},
        ]
    }
    sample = tokenize_sample(tokenizer, row)
    assert trained_text(tokenizer, sample) == ["Blue.<|im_end|>", "Green, of course.<|im_end|>"]


def test_unmask_trains_user_turns_too_but_never_the_system_prompt(tokenizer: Any) -> None:
    row = {
        "unmask": True,
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Hello there"},
            {"role": "assistant", "content": "Hi!"},
        ],
    }
    sample = tokenize_sample(tokenizer, row)
    assert trained_text(tokenizer, sample) == ["Hello there<|im_end|>", "Hi!<|im_end|>"]


def test_legacy_pretraining_role_trains_the_whole_text_and_eos(tokenizer: Any) -> None:
    row = {"messages": [{"role": "pretraining", "content": "The sky is blue because of Rayleigh scattering."}]}
    sample = tokenize_sample(tokenizer, row)
    assert all(sample.loss_mask)
    assert tokenizer.decode(sample.input_ids) == "The sky is blue because of Rayleigh scattering.<|im_end|>"


def test_answer_text_repeated_in_the_question_is_located_after_it(tokenizer: Any) -> None:
    row = {"messages": [{"role": "user", "content": "Say yes"}, {"role": "assistant", "content": "yes"}]}
    assert trained_text(tokenizer, tokenize_sample(tokenizer, row)) == ["yes<|im_end|>"]


def test_dataset_drops_and_counts_bad_and_long_rows(tmp_path: Path, chat_tokenizer_dir: Path) -> None:
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    long = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "word " * 300}]}
    no_answer = {"messages": [{"role": "user", "content": "only a question"}]}
    lines = [json.dumps(good), json.dumps(long), "{not json", json.dumps(no_answer), json.dumps({"text": "x"})]
    data_file = tmp_path / "mix.jsonl"
    data_file.write_text("\n".join(lines) + "\n")
    data = load_dataset(data_file, chat_tokenizer_dir, max_seq_len=128)
    assert len(data.samples) == 1
    assert data.source_rows == 5
    assert data.dropped == {
        "longer than max_seq_len=128": 1,
        "not valid JSON": 1,
        "no trained tokens": 1,
        "no `messages` list": 1,
    }
    # The cache keeps the long sample: a larger limit needs no re-tokenisation.
    assert len(load_dataset(data_file, chat_tokenizer_dir, max_seq_len=1024).samples) == 2


def test_tokenisation_is_cached_by_content(tmp_path: Path, chat_tokenizer_dir: Path, training_cache: Path) -> None:
    data_file = tmp_path / "mix.jsonl"
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    data_file.write_text(json.dumps(row) + "\n")
    load_dataset(data_file, chat_tokenizer_dir, max_seq_len=128)
    assert len(list(training_cache.rglob("*.pt"))) == 1
    load_dataset(data_file, chat_tokenizer_dir, max_seq_len=128)
    assert len(list(training_cache.rglob("*.pt"))) == 1
    data_file.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    assert len(load_dataset(data_file, chat_tokenizer_dir, max_seq_len=128).samples) == 2
    assert len(list(training_cache.rglob("*.pt"))) == 2


def test_parallel_tokenisation_matches_serial(tmp_path: Path, chat_tokenizer_dir: Path) -> None:
    from training_kit import write_messages

    data_file = write_messages(tmp_path / "mix.jsonl", 40, seed=3)
    serial = load_dataset(data_file, chat_tokenizer_dir, max_seq_len=1024, workers=1).samples
    (tmp_path / "cache").rename(tmp_path / "cache-serial")
    parallel = load_dataset(data_file, chat_tokenizer_dir, max_seq_len=1024, workers=2).samples
    assert parallel == serial


def test_preview_marks_trained_tokens(tokenizer: Any) -> None:
    row = {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]}
    text = render_preview(tokenizer, tokenize_sample(tokenizer, row))
    assert "[green]A.<|im_end|>[/green]" in text
