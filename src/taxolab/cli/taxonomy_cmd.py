"""``taxolab taxonomy``: validate leaves and list what changed against a git base."""

from __future__ import annotations

import click

from taxolab.cli.stub import not_available

_LATER = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.group("taxonomy")
def taxonomy_group() -> None:
    """Check a taxonomy: what changed, and is it valid."""


@taxonomy_group.command("diff", context_settings=_LATER)
def diff() -> None:
    """List leaves added or changed against the base and validate them."""
    not_available("taxonomy diff", 2)


@taxonomy_group.command("lint", context_settings=_LATER)
def lint() -> None:
    """Validate qna.yaml files or trees, regardless of git."""
    not_available("taxonomy lint", 2)
