"""``taxolab system``: facts about this install."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from taxolab import system_info
from taxolab.cli.context import emit
from taxolab.cli.options import json_option
from taxolab.console import stdout


@click.group("system")
def system_group() -> None:
    """Information about this machine and install."""


@system_group.command("info")
@json_option
def info(as_json: bool) -> None:
    """Versions of taxolab, Python, torch, transformers, llama.cpp, and the accelerator."""
    emit(system_info.collect(), as_json, _render)


def _render(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("taxolab", data["taxolab"])
    table.add_row("python", data["python"])
    table.add_row("platform", data["platform"])
    for name, version in data["packages"].items():
        table.add_row(name, version or "[dim]not installed[/dim]")
    server = data["llama_server"]
    table.add_row(
        "llama-server", f"{server['version']} ({server['path']})" if server["path"] else "[dim]not installed[/dim]"
    )
    cpu = data["cpu"]
    table.add_row("cpu", f"{cpu['model']} ({cpu['cores']} cores, torch uses {cpu['torch_threads']} threads)")
    table.add_row("memory", f"{data['memory_gib']} GiB")
    acc = data["accelerator"]
    devices = ", ".join(f"{d['name']} ({d.get('memory_gib', '?')} GiB)" for d in acc["devices"]) or "none"
    table.add_row("accelerator", f"{acc['type']}: {devices}")
    stdout.print(table)
