"""``taxolab model evaluate``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("evaluate", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """Evaluate a trained model against its base: what it learned and forgot."""
    not_available("model evaluate", 6)


COMMANDS = [command]
