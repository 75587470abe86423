"""``taxolab data``: generate synthetic data, list runs, preview rows, remix."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available

_LATER = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.group("data")
def data_group() -> None:
    """Generate, inspect and mix synthetic training data."""


@data_group.command("generate", context_settings=_LATER)
def generate() -> None:
    """Generate training data from the taxonomy's changed leaves with a teacher model."""
    not_available("data generate", 4)


@data_group.command("list", context_settings=_LATER)
def list_runs() -> None:
    """List generated data runs with their counts."""
    not_available("data list", 4)


@data_group.command("show", context_settings=_LATER)
def show() -> None:
    """Preview rows of a generated file."""
    not_available("data show", 4)


@data_group.command("mix", context_settings=_LATER)
def mix() -> None:
    """Rebuild the training mixes from a recipe."""
    not_available("data mix", 4)
