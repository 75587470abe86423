"""``taxolab model convert``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("convert", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """Convert an HF model folder to GGUF for llama.cpp."""
    not_available("model convert", 3)


COMMANDS = [command]
