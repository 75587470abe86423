"""``taxolab model train``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("train", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """Fine-tune the student model on generated data (multi-phase LAB)."""
    not_available("model train", 5)


COMMANDS = [command]
