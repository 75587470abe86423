"""Long work in a log: without a terminal, progress is plain lines at intervals (done/total, rate, ETA)."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console
from rich.progress import TextColumn

from taxolab.console import LogProgress, progress
from taxolab.sdg.progress import JobMeter, Reporter

LINE = re.compile(
    r"^generate: (\d+)/40 rows \((\d+)%\), [\d.]+/s, (ETA \d+:\d\d:\d\d|done in \d+:\d\d:\d\d), \d+ made$"
)


def test_non_terminal_output_gets_plain_lines_at_intervals_and_at_the_end() -> None:
    out = io.StringIO()
    bar = progress(TextColumn("{task.fields[made]} made"), console=Console(file=out, width=300), unit="rows",
                   interval=0.05)  # fmt: skip
    assert isinstance(bar, LogProgress)
    with bar:
        task = bar.add_task("generate", total=40, made=0)
        for done in range(1, 13):
            bar.update(task, completed=done, made=done * 3)
            time.sleep(0.02)
        time.sleep(0.12)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3, lines  # several interval lines while running, and one at the end
    assert all(LINE.match(line) for line in lines), lines
    assert lines[-1].startswith("generate: 12/40 rows (30%)") and "ETA" in lines[-1]
    assert "\x1b" not in out.getvalue()  # no escape codes in a log


def test_a_finished_task_says_done_once() -> None:
    out = io.StringIO()
    with progress(console=Console(file=out, width=300), interval=0.05) as bar:
        task = bar.add_task("score", total=4)
        bar.update(task, completed=4)
        time.sleep(0.2)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("score: 4/4 (100%)") and "done in 0:00:00" in lines[0]


def test_terminal_keeps_the_live_bar_and_disable_stays_silent() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert not isinstance(progress(console=terminal), LogProgress)
    out = io.StringIO()
    with progress(console=Console(file=out), disable=True, interval=0.01) as bar:
        bar.add_task("quiet", total=1)
        time.sleep(0.05)
    assert out.getvalue() == ""


def test_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXOLAB_PROGRESS_INTERVAL", "2.5")
    bar = progress(console=Console(file=io.StringIO()))
    assert isinstance(bar, LogProgress) and bar.interval == 2.5
    monkeypatch.setenv("TAXOLAB_PROGRESS_INTERVAL", "often")
    assert progress(console=Console(file=io.StringIO())).interval == 10.0  # type: ignore[attr-defined]


def test_generation_jobs_report_to_a_log(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The SDG reporter (what `data generate` shows) prints seeds, rows and rates when stderr is a file."""
    monkeypatch.setenv("TAXOLAB_PROGRESS_INTERVAL", "0.05")
    meter = JobMeter(total_seeds=6)
    with Reporter(enabled=True) as reporter:
        reporter.add("synonyms x simple", meter)
        meter.seeds_done, meter.rows, meter.completion_tokens = 2, 30, 900
        reporter.update("synonyms x simple", meter)
        time.sleep(0.15)
    err = capsys.readouterr().err
    assert "synonyms x simple: 2/6 seeds (33%)" in err
    assert "30 rows" in err and "tok/s" in err and "ETA" in err
