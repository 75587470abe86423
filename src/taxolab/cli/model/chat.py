"""``taxolab model chat``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("chat", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """Chat with a model, once with -q or in an interactive session."""
    not_available("model chat", 3)


COMMANDS = [command]
