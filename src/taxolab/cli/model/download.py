"""``taxolab model download``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("download", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """Download a model from the Hugging Face hub into the models folder."""
    not_available("model download", 3)


COMMANDS = [command]
