"""``taxolab data``: generate synthetic data, list runs, preview rows, remix."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option, settings_options
from taxolab.console import heading, stdout
from taxolab.datarun import KNOWLEDGE_MIX, QUESTIONS_KEY, SKILLS_MIX
from taxolab.llm.settings import ServeSettings
from taxolab.mixing import mix_recipe
from taxolab.mixing.settings import MixSettings
from taxolab.sdg.settings import GenerateSettings


@click.group("data")
def data_group() -> None:
    """Generate, inspect and mix synthetic training data."""


@data_group.command("generate")
@click.option("--taxonomy-path", "paths__taxonomy", type=click.Path(path_type=Path), help="Taxonomy repository.")
@click.option("--taxonomy-base", "taxonomy__base", help="Git ref to diff against (`empty`: every leaf).")
@click.option(
    "--endpoint-url",
    "generate__endpoint_urls",
    multiple=True,
    help="Teacher endpoint (repeatable); none: serve locally.",
)
@click.option(
    "--api-key", envvar=None, help="API key for the endpoints (default: $OPENAI_API_KEY, see client.api_key_env)."
)
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Run folder (default: a new one).")
@click.option(
    "--resume", is_flag=True, help="Continue the unfinished run with the same inputs (a plain rerun does too)."
)
@settings_options(
    "generate",
    GenerateSettings,
    "pipeline",
    "sdg_scale_factor",
    "teacher_model",
    "concurrency",
    "batch_size",
    "chunk_word_count",
    "chunk_overlap",
    "max_num_tokens",
    "seed",
    "executor",
    "ray_address",
)
@settings_options("serve", ServeSettings, "threads")
@settings_options("mix", MixSettings, "seed_examples")
@json_option
@click.pass_obj
def generate(
    app: AppContext, api_key: str | None, output_dir: Path | None, resume: bool, as_json: bool, **flags: Any
) -> None:
    """Generate training data from the taxonomy's changed leaves with a teacher model, then mix it.

    The mix is the one `taxolab run` makes from the same rows (seed examples,
    document passages, held-out questions kept out of training).
    """
    from taxolab.workflow.data import generate_and_mix

    result = generate_and_mix(app.config(flags), output_dir=output_dir, resume=resume, api_key=api_key)
    emit(result.manifest, as_json, _render_generate)


@data_group.command("list")
@click.option(
    "--datasets-dir", "paths__datasets", type=click.Path(path_type=Path), help="Where `data generate` runs live."
)
@click.option("--runs-dir", "paths__runs", type=click.Path(path_type=Path), help="Where `taxolab run` folders live.")
@json_option
@click.pass_obj
def list_runs(app: AppContext, as_json: bool, **flags: Any) -> None:
    """List generated data with its counts: `data generate` runs, then the mixes of `taxolab run` folders."""
    from taxolab.sdg.runs import list_runs as runs_in
    from taxolab.workflow.data import run_data

    paths = app.config(flags).paths
    found = [*runs_in(paths.resolved("datasets")), *run_data(paths.resolved("runs"))]
    emit([dataclasses.asdict(run) for run in found], as_json, _render_list)


@data_group.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-n", "count", type=int, default=3, show_default=True, help="Rows to show.")
@click.option(
    "--dropped",
    is_flag=True,
    help="Show the rows the checks rejected for this leaf (dropped/<leaf>.jsonl next to generated/), with "
    "the reason and the teacher's raw text.",
)
@json_option
def show(file: Path, count: int, dropped: bool, as_json: bool) -> None:
    """Preview rows of a generated or training JSONL file; a mix folder or forms/<leaf>.json: forms per fact.

    A training file is followed by the forms per fact of its mix (min / median, facts short of
    mix.min_forms_per_fact, facts with none).
    """
    from taxolab.errors import TaxolabError
    from taxolab.mixing.forms import counts_for
    from taxolab.sdg.preview import dropped_file, head_rows

    if file.is_dir() or file.suffix == ".json":
        forms = counts_for(file)
        if not forms:
            raise TaxolabError(f"{file}: no forms per fact recorded here (forms/<leaf>.json); mix it again")
        emit(forms, as_json, _render_forms)
        return

    if dropped:
        source = dropped_file(file)
        rows = head_rows(source, count)
        if not rows and not as_json:
            stdout.print(f"no dropped rows in {source}", highlight=False)
            return
        emit(rows, as_json, _render_dropped)
        return
    rows = head_rows(file, count)
    emit(rows, as_json, _render_rows)
    if not as_json and (forms := counts_for(file)):
        _render_forms(forms)


@data_group.command("mix")
@click.argument("recipe", type=click.Path(path_type=Path, dir_okay=False))
@json_option
def mix(recipe: Path, as_json: bool) -> None:
    """Rebuild a training mix from a recipe (e.g. <run>/recipes/skills.yaml)."""
    result = mix_recipe(recipe)
    data = {
        "output": str(result.output),
        "rows": result.rows,
        "per_dataset": result.per_dataset,
        "invalid": dict(result.invalid),
    }
    emit(data, as_json, lambda d: stdout.print(f"wrote {d['rows']} samples to {d['output']}"))


def _render_generate(manifest: dict[str, Any]) -> None:
    table = Table(title=f"run {manifest['run']}", title_justify="left")
    for column in ("leaf", "seeds", "rows", "held out", "dropped", "test questions"):
        table.add_column(column, justify="left" if column == "leaf" else "right")
    for leaf, counts in manifest["counts"]["leaves"].items():
        dropped = sum(counts["dropped"].values())
        mixed = counts.get("mixed") or {}
        tests = mixed.get("test_questions", counts["test_questions"])
        table.add_row(
            leaf,
            str(counts["seeds"]),
            str(counts["rows"]),
            str(mixed.get("heldout", counts.get("heldout", 0))),
            str(dropped),
            "-" if tests is None else str(tests),
        )
    stdout.print(table)
    for leaf, counts in manifest["counts"]["leaves"].items():
        for reason, number in sorted(counts["dropped"].items()):
            stdout.print(f"  [dim]{escape(leaf)}: dropped {number} at {escape(reason)}[/dim]")
    for leaf, counts in manifest["counts"]["leaves"].items():
        mixed = counts.get("mixed") or {}
        if "facts" in mixed:
            stdout.print(
                f"  {escape(leaf)}: {mixed['facts']} facts, forms per fact min {mixed['forms_min']} / median "
                f"{mixed['forms_median']:g}, {mixed['facts_short']} under {mixed['min_forms_per_fact']}, "
                f"{mixed['facts_without_forms']} with none (`taxolab data show RUN_FOLDER` lists them)"
            )
    counts = manifest["counts"]
    teacher = manifest.get("teacher") or {}
    retried = (
        f"; {teacher['retries']} teacher retries after transient errors (HTTP 429/5xx, timeouts, lost connections)"
        if teacher.get("retries")
        else ""
    )
    stdout.print(
        f"knowledge samples: {counts[KNOWLEDGE_MIX]}, skills samples: {counts[SKILLS_MIX]} "
        f"in {manifest['timings']['total_seconds']:.0f} s{retried}"
    )


def _render_forms(forms: dict[str, dict[str, Any]]) -> None:
    table = Table(title="forms per fact (distinct trained samples holding the fact)", title_justify="left")
    for column in ("leaf", "facts", "min", "median", "short", "none", "forms by kind"):
        table.add_column(column, justify="left" if column in ("leaf", "forms by kind") else "right")
    for leaf, counts in forms.items():
        kinds = ", ".join(f"{kind} {number}" for kind, number in counts["by_kind"].items())
        table.add_row(
            escape(leaf),
            str(counts["facts"]),
            str(counts["min"]),
            f"{counts['median']:g}",
            f"{len(counts['short'])} (< {counts['min_forms']})",
            str(len(counts["none"])),
            escape(kinds),
        )
    stdout.print(table)
    for leaf, counts in forms.items():
        for fact in counts["none"]:
            stdout.print(
                f"  [bold]{escape(leaf)} {fact['span_id']}: no trained form[/bold] {escape(_short(fact['span'], 120))}"
            )
        fewest = [fact for fact in sorted(counts["short"], key=lambda fact: fact["forms"]) if fact["forms"]]
        for fact in fewest[:5]:
            stdout.print(
                f"  [dim]{escape(leaf)} {fact['span_id']}: {fact['forms']} forms[/dim] {escape(_short(fact['span'], 120))}"
            )
        if len(fewest) > 5:
            stdout.print(f"  [dim]... and {len(fewest) - 5} more short facts (--json lists every fact)[/dim]")


def _render_list(runs: list[dict[str, Any]]) -> None:
    if not runs:
        stdout.print("no generated data yet: run `taxolab data generate` or `taxolab run`")
        return
    table = Table(title="generated data", title_justify="left")
    for column in (
        "folder",
        "made by",
        "status",
        "pipeline",
        "teacher",
        "leaves",
        "rows",
        "tests",
        "knowledge",
        "skills",
    ):
        table.add_column(column, overflow="fold")
    for run in runs:
        table.add_row(
            run["folder"] if isinstance(run["folder"], str) else str(run["folder"]),
            run["made_by"],
            run["status"],
            run["pipeline"],
            run["teacher"],
            str(run["leaves"]),
            str(run["rows"]),
            str(run["test_questions"]),
            str(run["knowledge_samples"]),
            str(run["skills_samples"]),
        )
    stdout.print(table)


def _render_dropped(entries: list[dict[str, Any]]) -> None:
    for number, entry in enumerate(entries, start=1):
        heading(stdout, f"dropped {number}: {escape(str(entry.get('reason')))}")
        for key, value in entry.items():
            if key not in ("reason", "row", "block"):
                stdout.print(f"[bold]{escape(key)}:[/bold] {escape(_short(value))}")
        row = entry.get("row") or {}
        for key in ("span", "question", "answer", "document"):
            if row.get(key):
                stdout.print(f"[bold]{key}:[/bold] {escape(_short(row[key]))}")
        for block, raw in (row.get("_raw") or {}).items():
            stdout.print(f"[bold]teacher ({escape(str(block))}):[/bold] {escape(_short(raw))}")


def _render_rows(rows: list[dict[str, Any]]) -> None:
    for number, row in enumerate(rows, start=1):
        heading(stdout, f"row {number}")
        if isinstance(row.get("messages"), list):
            for message in row["messages"]:
                stdout.print(
                    f"[bold]{escape(str(message.get('role')))}:[/bold] {escape(_short(message.get('content')))}"
                )
            if row.get(QUESTIONS_KEY):  # what mixing recorded this sample trains
                stdout.print(f"[bold]trains:[/bold] {escape(_short(' | '.join(map(str, row[QUESTIONS_KEY]))))}")
            continue
        for key, value in row.items():
            if not key.startswith("_"):
                stdout.print(f"[bold]{escape(key)}:[/bold] {escape(_short(value))}")


def _short(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + " [...]"
