"""Command-line flags generated from the typed settings, so config and CLI never drift.

A flag ``--learning-rate`` on ``model train`` is the config key
``train.learning_rate``: same name, same type, same help text.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])


def settings_options(section: str, model: type[BaseModel], *names: str) -> Callable[[F], F]:
    """Add one click option per named field of ``model``; values arrive as ``{section}__{name}`` kwargs."""

    def decorator(func: F) -> F:
        for name in reversed(names):
            func = _option_for(section, model, name)(func)
        return func

    return decorator


def json_option(func: F) -> F:
    """The ``--json`` flag: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)


def _option_for(section: str, model: type[BaseModel], name: str) -> Callable[[F], F]:
    field = model.model_fields[name]
    flag = "--" + name.replace("_", "-")
    dest = f"{section}__{name}"
    help_text = f"{field.description or ''} [config: {section}.{name}]".strip()
    annotation = _strip_optional(field.annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return click.option(f"{flag}/--no-{flag[2:]}", dest, default=None, help=help_text)
    if origin is list:
        (inner,) = typing.get_args(annotation) or (str,)
        return click.option(flag, dest, multiple=True, type=_click_type(inner), help=help_text + " (repeatable)")
    return click.option(flag, dest, default=None, type=_click_type(annotation), help=help_text)


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _click_type(annotation: Any) -> Any:
    if typing.get_origin(annotation) is Literal:
        return click.Choice([str(v) for v in typing.get_args(annotation)])
    if annotation is Path:
        return click.Path(path_type=Path)
    if annotation in (int, float, str):
        return annotation
    return str
