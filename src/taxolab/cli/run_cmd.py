"""``taxolab run``: the whole loop in one resumable command."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def run_command() -> None:
    """Taxonomy -> data -> training -> evaluation -> GGUF, resumable, with an HTML report."""
    not_available("run", 7)
