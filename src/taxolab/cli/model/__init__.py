"""``taxolab model``: get, serve, chat with, train, evaluate and convert models."""

from __future__ import annotations

import click

from taxolab.cli.model import chat, convert, download, evaluate, listing, prepare_default, serve, train


@click.group("model")
def model_group() -> None:
    """Get, serve, chat with, train, evaluate and convert models."""


for _module in (download, listing, serve, chat, train, evaluate, convert, prepare_default):
    for _command in _module.COMMANDS:
        model_group.add_command(_command)
