"""The evaluation report as one self-contained HTML page: tables plus charts, no network assets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from taxolab import fsio
from taxolab.evaluation.results import BenchmarkResult, EvaluationReport
from taxolab.reports import charts
from taxolab.reports.eval_format import (
    counts_lines,
    fmt_delta,
    fmt_interval,
    fmt_score,
    headline_rows,
    knowledge_headline,
)

_TEMPLATES = Path(__file__).parent
RADAR_BENCHMARKS = {"mt_bench"}


def render_html(report: EvaluationReport) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("eval_report.html.j2")
    return template.render(
        report=report,
        sections=[_section(result) for result in report.results],
        headlines=[line for line in map(knowledge_headline, report.results) if line],
        written=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def write_html_report(report: EvaluationReport, path: Path) -> Path:
    fsio.write_text(path, render_html(report))
    return path


def _section(result: BenchmarkResult) -> dict[str, Any]:
    comparison = result.comparison()
    rows = []
    for row in comparison:
        n = result.trained.counts.get(row.group)
        rows.append(
            {
                "group": row.group,
                "count": n or "",
                "base": fmt_score(row.base, result, n) if result.base else "",
                "trained": fmt_score(row.trained, result, n),
                "delta": fmt_delta(row.delta, result, n) + fmt_interval(row.test, result, count=n),
                "change": row.change.value,
            }
        )
    verdict = result.verdict()
    return {
        "result": result,
        "verdict": verdict.value if verdict else None,
        "tests": counts_lines(result),
        "knowledge": knowledge_headline(result),
        "headline": headline_rows(result),
        "rows": rows,
        "charts": _charts(result),
        "has_base": result.base is not None,
        "files": result.files,
    }


def _charts(result: BenchmarkResult) -> list[str]:
    comparison = result.comparison()
    if not comparison:
        return []
    groups = [row.group for row in comparison]
    trained = [row.trained for row in comparison]
    base = [row.base for row in comparison] if result.base else None
    labels = {
        "trained_label": f"trained: {_short(result.trained.model)}",
        "base_label": f"base: {_short(result.base.model)}" if result.base else "base",
    }
    images = [
        charts.paired_bars(
            groups,
            trained,
            base,
            title=f"{result.benchmark}: {result.metric} per {result.group_label}",
            scale=result.scale,
            **labels,
        )
    ]
    if result.benchmark in RADAR_BENCHMARKS and len(groups) >= 3:
        images.append(
            charts.radar(groups, trained, base, title=f"{result.benchmark} by category", scale=result.scale, **labels)
        )
    return images


def _short(name: str, width: int = 48) -> str:
    """Model names are often long paths: keep their end, which tells them apart."""
    return name if len(name) <= width else "…" + name[-(width - 1) :]
