"""QA: a training JSONL with a bad row said `dropped 1: no messages list` without saying where."""

from __future__ import annotations

from pathlib import Path

from taxolab.training.dataset import _tokenize_file


def test_dropped_rows_keep_their_file_lines(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"messages": []}\n\n{"text": 1}\nnot json\n{"messages": "x"}\n')
    samples, dropped, rows, bad_lines = _tokenize_file(data, tmp_path, tokenizer=None, workers=1)
    assert samples == [] and rows == 4
    assert bad_lines == {"no `messages` list": [1, 3, 5], "not valid JSON": [4]}
    assert dropped["no `messages` list"] == 3
