"""The evaluation report in the terminal: one headline table and one per-group table per benchmark."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from taxolab.evaluation.results import BenchmarkResult, Change, EvaluationReport
from taxolab.reports.eval_format import (
    counts_lines,
    fmt_delta,
    fmt_interval,
    fmt_score,
    headline_rows,
    knowledge_headline,
)

_STYLE = {
    Change.IMPROVED: "green",
    Change.REGRESSED: "red",
    Change.NEW: "magenta",
    Change.UNCHANGED: "dim",
    Change.UNTESTED: "yellow",
    Change.NO_SCORE: "yellow",
    Change.MIXED: "yellow",
}


def _styled(change: str) -> str:
    word = change.split(" (", 1)[0]
    style = _STYLE.get(Change(word), "") if word else ""
    return f"[{style}]{change}[/{style}]" if style else change


def print_report(report: EvaluationReport, console: Console) -> None:
    for result in report.results:
        line = knowledge_headline(result)
        if line:
            console.print(f"[bold]{line}[/bold]", highlight=False)
    for result in report.results:
        _print_result(result, console)
    for name, reason in report.skipped.items():
        console.print(f"[yellow]{name} skipped:[/yellow] {reason}", highlight=False)
    console.print(f"results: {report.output_dir}", highlight=False)
    if report.html_report:
        console.print(f"report:  {report.html_report}", highlight=False)


def _print_result(result: BenchmarkResult, console: Console) -> None:
    has_base = result.base is not None
    title = f"{result.benchmark} ({result.metric}, {result.scale[0]:g}-{result.scale[1]:g})"
    if result.source:
        title = f"{result.benchmark} ({result.metric}; questions: {result.source})"
    if result.judge:
        title += f", judge {result.judge}"
    head = Table(title=title, title_justify="left", show_edge=False)
    head.add_column("")
    if has_base:
        head.add_column(f"base\n{result.base.model if result.base else ''}", justify="right")
    head.add_column(f"trained\n{result.trained.model}", justify="right")
    if has_base:
        head.add_column("Δ", justify="right")
        head.add_column("")
    for name, base, trained, delta, change in headline_rows(result):
        head.add_row(name, *([base, trained, delta, _styled(change)] if has_base else [trained]))
    console.print(head)
    groups = Table(show_edge=False)
    groups.add_column(result.group_label)
    groups.add_column("n", justify="right")
    if has_base:
        groups.add_column("base", justify="right")
    groups.add_column("trained", justify="right")
    if has_base:
        groups.add_column("Δ", justify="right")
        groups.add_column("")
    for row in result.comparison():
        n = result.trained.counts.get(row.group)
        cells = [row.group, str(n or "")]
        if has_base:
            cells += [
                fmt_score(row.base, result, n),
                fmt_score(row.trained, result, n),
                fmt_delta(row.delta, result, n) + fmt_interval(row.test, result, count=n),
                _styled(row.change.value),
            ]
        else:
            cells.append(fmt_score(row.trained, result, n))
        groups.add_row(*cells)
    console.print(groups)
    if has_base:
        summary = result.summary()
        counts = ", ".join(f"{len(summary[c.value])} {c.value}" for c in Change if summary[c.value])
        verdict = result.verdict()
        line = f"verdict: {_styled(verdict.value)}" if verdict else ""
        if counts:
            line += f" (per {result.group_label}: {counts})"
        console.print(f"  {line}", highlight=False)
        for test_line in counts_lines(result):
            console.print(f"  {test_line}", highlight=False)
    for note in result.notes:
        console.print(f"  [dim]{note}[/dim]", highlight=False)
    console.print()
