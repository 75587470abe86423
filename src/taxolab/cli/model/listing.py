"""``taxolab model list``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("list", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """List local models: name, format, size, path, modified."""
    not_available("model list", 3)


COMMANDS = [command]
