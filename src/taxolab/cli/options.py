"""Command-line flags generated from the typed settings, so config and CLI never drift.

A flag ``--learning-rate`` on ``model train`` is the config key
``train.learning_rate``: same name, same type, same help text.

Users coming from InstructLab type ``ilab``'s flag names; :data:`ILAB_ALIASES`
is the one table of those names, each an extra spelling of a taxolab flag with
the same meaning, added by :func:`add_ilab_aliases` once the command tree is
built (so they show in ``--help`` and set the same value).
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

ILAB_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    # command path: {taxolab flag: ilab spellings with the same meaning}
    "data generate": {
        "--teacher-model": ("--model",),
        "--threads": ("--num-cpus",),
    },
    "model chat": {
        "--model-path": ("-m", "--model"),
        "--question": ("-qq", "--quick-question"),
    },
    "model download": {
        "--repo": ("--repository",),
    },
    "model evaluate": {
        "--dk-bench-data": ("--input-questions",),
        "--taxonomy-ref": ("--branch",),
        "--taxonomy-base": ("--base-branch",),
    },
    "model train": {
        "--epochs": ("--num-epochs",),
        "--output-dir": ("--ckpt-output-dir",),
        "--knowledge-data": ("--phased-phase1-data",),
        "--skills-data": ("--phased-phase2-data",),
        "--knowledge-epochs": ("--phased-phase1-num-epochs",),
        "--skills-epochs": ("--phased-phase2-num-epochs",),
    },
}
"""``ilab`` flag names accepted as aliases, per command. ``model serve --gpu-layers`` and
``--chat-template`` need none: they are the taxolab flags of ``serve.gpu_layers`` and
``serve.chat_template``."""


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


def add_ilab_aliases(
    root: click.Group, table: dict[str, dict[str, tuple[str, ...]]] | None = None, *, strict: bool = False
) -> list[str]:
    """Give each option named in ``table`` (default :data:`ILAB_ALIASES`) its extra spellings.

    An entry whose taxolab flag is gone but one of whose spellings names an option is
    attached to that option. Returns what could not be done (an unknown command, no such
    option, a spelling another option already uses); with ``strict`` it raises
    ``LookupError`` instead, which is how the tests keep the table from going stale. The
    CLI itself never fails to start over an alias.
    """
    problems: list[str] = []
    for path, flags in (ILAB_ALIASES if table is None else table).items():
        command: click.Command = root
        for name in path.split():
            if not isinstance(command, click.Group) or name not in command.commands:
                problems.append(f"ilab aliases: no command `{path}`")
                break
            command = command.commands[name]
        else:
            problems += _alias_options(command, path, flags)
    if problems and strict:
        raise LookupError("; ".join(problems))
    return problems


def _alias_options(command: click.Command, path: str, flags: dict[str, tuple[str, ...]]) -> list[str]:
    problems = []
    options = [p for p in command.params if isinstance(p, click.Option)]
    for flag, aliases in flags.items():
        option = next((o for name in (flag, *aliases) for o in options if name in o.opts), None)
        if option is None:
            problems.append(f"ilab aliases: `{path}` has no option {flag}")
            continue
        for alias in aliases:
            owner = next((o for o in options if alias in (*o.opts, *o.secondary_opts)), None)
            if owner is option:
                continue
            if owner is not None:
                problems.append(f"ilab aliases: {alias} is already another option of `{path}`")
                continue
            option.opts.append(alias)
    return problems


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
