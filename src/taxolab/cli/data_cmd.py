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
from taxolab.datarun import FORMS, KNOWLEDGE_MIX, QUESTIONS_KEY, SKILLS_MIX
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

    if file.suffix == ".json" and file.parent.name != FORMS:
        _show_record(file, count, as_json)
        return
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


def _show_record(file: Path, count: int, as_json: bool) -> None:
    """A JSON record of a run (``generation.json``, ``run.json``) printed whole; a checkpoint batch's rows."""
    import json

    from taxolab.errors import TaxolabError

    if not file.is_file():
        raise TaxolabError(f"{file}: file not found")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TaxolabError(
            f"{file}: not a JSON record ({exc}); `data show` reads JSONL rows and JSON records"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("rows"), list) and "kind" not in data:
        emit(data["rows"][:count], as_json, _render_rows)
        return
    emit(data, as_json, lambda record: stdout.print_json(json.dumps(record, default=str)))


@data_group.command("review")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--leaf", "leaf_name", metavar="NAME", help="Only this leaf's rows.")
@click.option("--dropped", is_flag=True, help="Also list the rows the checks dropped, with the reason.")
@click.option("--reject", multiple=True, metavar="ID", help="Leave this row out of training (repeatable; a,b,c).")
@click.option("--edit", metavar="ID", help="Correct this row: with --question and/or --answer.")
@click.option("--question", help="The corrected question (with --edit).")
@click.option("--answer", help="The corrected answer (with --edit).")
@click.option("--restore", multiple=True, metavar="ID", help="Undo the decision on this row (repeatable).")
@click.option(
    "--more", "more_leaf", metavar="LEAF", help="Ask for a further batch of rows for this leaf (run folders)."
)
@click.option("--rows", type=click.IntRange(min=1), help="With --more: at most this many more rows (default: a batch).")
@json_option
def review(  # noqa: PLR0917 (click passes every option by keyword, ruff cannot tell)
    folder: Path,
    leaf_name: str | None,
    dropped: bool,
    reject: tuple[str, ...],
    edit: str | None,
    question: str | None,
    answer: str | None,
    restore: tuple[str, ...],
    more_leaf: str | None,
    rows: int | None,
    as_json: bool,
) -> None:
    """List a run's rows with stable ids, and reject, edit or restore rows before training.

    FOLDER is a `taxolab run` folder (after `--stop-after generate` or `mix`) or a
    `data generate` folder. Decisions go to each leaf's review file
    (data/leaves/<leaf>/review.yaml in a run folder); the next `taxolab run`
    re-mixes and retrains on the reviewed rows without asking the teacher again.
    `--more LEAF` makes the next `taxolab run` generate a further batch for that
    leaf only, keeping its rows and the decisions on them.
    """
    from taxolab.errors import TaxolabError
    from taxolab.workflow.review import ask_more, decide, list_rows, missing_ids, review_leaves

    leaves = review_leaves(folder)
    if rows is not None and more_leaf is None:
        raise TaxolabError("--rows goes with --more LEAF")
    if more_leaf is not None:
        asked = ask_more(leaves, more_leaf, rows)
        more = {"leaf": more_leaf, "more": asked.more, "file": str(asked.path)}
        emit(more, as_json, _render_more)
        return
    if leaf_name is not None:
        leaves = [leaf for leaf in leaves if leaf.name == leaf_name]
        if not leaves:
            raise TaxolabError(f"{folder}: no leaf {leaf_name!r} here; `taxolab data review {folder}` lists them")
    ids = tuple(part for value in reject for part in value.replace(",", " ").split())
    undo = tuple(part for value in restore for part in value.replace(",", " ").split())
    if ids or undo or edit is not None or question is not None or answer is not None:
        done = decide(leaves, reject=ids, restore=undo, edit=edit, question=question, answer=answer)
        data: dict[str, Any] = {
            "decided": [dataclasses.asdict(d) for d in done],
            "files": sorted({str(leaf.review) for leaf in leaves if leaf.name in {d.leaf for d in done}}),
            "missing": missing_ids(leaves),
        }
        emit(data, as_json, _render_decided)
        return
    listed = {
        "leaves": {leaf.name: list_rows(leaf, dropped=dropped) for leaf in leaves},
        "files": {leaf.name: str(leaf.review) for leaf in leaves},
        "missing": missing_ids(leaves),
    }
    emit(listed, as_json, _render_review)


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


def _render_review(listed: dict[str, Any]) -> None:
    for leaf, rows in listed["leaves"].items():
        counts = {status: sum(row["status"] == status for row in rows) for status in ("kept", "heldout", "dropped")}
        decided = sum("decision" in row for row in rows)
        dropped = f", {counts['dropped']} dropped" if counts["dropped"] else ""
        heading(
            stdout, f"{escape(leaf)}: {counts['kept']} kept, {counts['heldout']} held out{dropped}, {decided} decided"
        )
        for row in rows:
            mark = {"kept": "", "heldout": " [cyan]held out[/cyan]", "dropped": " [red]dropped[/red]"}[row["status"]]
            if row.get("decision") == "reject":
                mark += " [bold red]rejected[/bold red]"
            elif row.get("decision") == "edit":
                mark += " [bold yellow]edited[/bold yellow]"
            reason = f" [dim]({escape(str(row['reason']))})[/dim]" if row.get("reason") else ""
            stdout.print(f"[bold]{row['id']}[/bold]{mark}{reason}", highlight=False)
            edited = row.get("edited") or {}
            for key in ("question", "answer"):
                value = edited.get(key) or row.get(key)
                if value:
                    note = " (edited)" if edited.get(key) else ""
                    stdout.print(f"  {key}{note}: {escape(_short(value, 300))}", highlight=False)
    _render_missing(listed["missing"])
    stdout.print(
        "[dim]decide with --reject ID, --edit ID --question/--answer TEXT, --restore ID; decisions go to "
        "each leaf's review file and the next `taxolab run` trains on the reviewed rows[/dim]"
    )


def _render_more(more: dict[str, Any]) -> None:
    batches = ", ".join("a batch" if rows is None else f"{rows} rows" for rows in more["more"])
    stdout.print(
        f"{escape(more['leaf'])}: further batches asked for: {batches} (recorded in {more['file']}); the next "
        "`taxolab run` generates them for this leaf only and keeps its rows",
        highlight=False,
    )


def _render_decided(data: dict[str, Any]) -> None:
    for decided in data["decided"]:
        what = decided["action"]
        if what == "edit":
            parts = [f"{key} -> {decided[key]!r}" for key in ("question", "answer") if decided[key] is not None]
            what = f"edit: {'; '.join(parts)}"
        stdout.print(f"{decided['id']} ({escape(decided['leaf'])}): {escape(what)}", highlight=False)
    for path in data["files"]:
        stdout.print(f"recorded in {path}", highlight=False)
    _render_missing(data["missing"])


def _render_missing(missing: dict[str, list[str]]) -> None:
    for leaf, ids in missing.items():
        stdout.print(
            f"[bold]{escape(leaf)}: decisions on {', '.join(ids)} name rows that no longer exist[/bold] "
            "(regenerated); they apply to nothing: --restore them or decide on the new rows",
            highlight=False,
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
    variants = max((int(counts.get("epoch_variants", 1)) for counts in forms.values()), default=1)
    if variants > 1:
        stdout.print(
            f"  [dim]counted over all {variants} epoch variants (mix.epoch_variants); a knowledge phase of fewer "
            "epochs trains fewer of them (the run report counts what it trained)[/dim]"
        )
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
