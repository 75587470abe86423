"""``taxolab model serve``."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available


@click.command("serve", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def command() -> None:
    """Serve a model over an OpenAI-compatible API (llama.cpp or vLLM)."""
    not_available("model serve", 3)


COMMANDS = [command]
