"""State every command shares: which config file, debug mode, and the effective config."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from taxolab.config import Config, load_config
from taxolab.console import stdout


@dataclass
class AppContext:
    config_path: Path | None = None
    debug: bool = False
    _cache: dict[str, Config] = field(default_factory=dict)

    def config(self, flags: Mapping[str, Any] | None = None) -> Config:
        """The effective config with this command's flags (``section__key`` kwargs) applied."""
        overrides = overrides_from_flags(flags or {})
        key = json.dumps(overrides, sort_keys=True, default=str)
        if key not in self._cache:
            self._cache[key] = load_config(self.config_path, overrides, flag_names=_flag_names())
        return self._cache[key]


def _flag_names() -> dict[str, str]:
    """The running command's ``section__key`` options as ``{"section.key": "--flag"}``, for error lines."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    names = {}
    for param in ctx.command.params:
        if isinstance(param, click.Option) and param.name and "__" in param.name:
            longest = max(param.opts, key=len)
            names[param.name.replace("__", ".")] = longest
    return names


def overrides_from_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """``{"train__epochs": 2, "other": 1}`` -> ``{"train": {"epochs": 2}}``; unset (None/()) flags skipped."""
    result: dict[str, Any] = {}
    for name, value in flags.items():
        if "__" not in name or value is None or value == ():
            continue
        node = result
        *parents, leaf = name.split("__")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = list(value) if isinstance(value, tuple) else value
    return result


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON on stdout for scripts, or through ``render`` for people."""
    if as_json:
        stdout.print_json(json.dumps(data, default=str))
    else:
        render(data)
