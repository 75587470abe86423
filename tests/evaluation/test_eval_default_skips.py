"""QA: `model evaluate` with no flags exited 0 while default benchmarks were skipped, with a misleading reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.testing.fake_openai import FakeOpenAIServer


def test_skipped_default_benchmarks_exit_non_zero_and_name_the_missing_folder(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_pair: Callable[..., FakeOpenAIServer],
) -> None:
    data = tmp_path / "dk.jsonl"
    data.write_text('{"question": "Capital of Italy?", "answer": "Rome"}\n')
    model, base, judge = fake_pair(lambda r: "Rome"), fake_pair(lambda r: "Milan"), fake_pair(lambda r: "[[5]]")
    missing = tmp_path / "no-taxonomy"
    monkeypatch.setenv("TAXOLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TAXOLAB_EVALUATE__BENCHMARKS", "[dk_bench, mt_bench_branch]")
    code = main([
        "model", "evaluate", "--dk-bench-data", str(data), "--endpoint-url", model.url,
        "--base-endpoint-url", base.url, "--judge-endpoint-url", judge.url, "--taxonomy-path", str(missing),
        "--output-dir", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "dk_bench" in captured.out
    assert f"taxonomy folder {missing} does not exist" in captured.out + captured.err
    assert "1 of 2 benchmarks skipped (mt_bench_branch" in captured.err
