"""``taxolab model list``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option
from taxolab.console import stdout
from taxolab.models.formats import FORMAT_LABELS


@click.command("list")
@click.option(
    "--model-dir", "paths__models", type=click.Path(path_type=Path), help="Models folder [config: paths.models]."
)
@json_option
@click.pass_obj
def command(app: AppContext, as_json: bool, **flags: Any) -> None:
    """List local models: name, format, size, path, modified."""
    from taxolab.models.registry import list_models

    models = list_models(app.config(flags).paths.resolved("models"))
    emit([model.as_dict() for model in models], as_json, _render)


def _render(rows: list[dict[str, Any]]) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("name", "format", "size", "modified", "path"):
        table.add_column(column, overflow="fold")
    for row in rows:
        ready = row["ready"]
        table.add_row(
            row["name"],
            FORMAT_LABELS[row["format"]],
            human_size(row["size_bytes"]) if ready else f"[dim]{row['source']}[/dim]",
            (row["modified"] or "").replace("T", " ")[:16],
            row["path"],
        )
    stdout.print(table)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


COMMANDS = [command]
