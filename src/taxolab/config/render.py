"""Write a config as YAML with every setting documented by its field description."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel


def render_documented(config: BaseModel, commented: Collection[str] = ()) -> str:
    """YAML for ``config`` with a comment above every key, so the file is its own manual.

    ``commented`` holds dotted keys (``"paths.data_dir"``) written as comments
    (``# data_dir: value``): shown for reference but not set, so a value that
    follows the machine (``TAXOLAB_DATA_DIR``) is not pinned by the file.
    """
    lines = [
        "# taxolab configuration.",
        "# Precedence: defaults < this file < TAXOLAB_<SECTION>__<KEY> environment variables < command-line flags.",
        "",
    ]
    _render_model(config, 0, lines, set(commented), "")
    return "\n".join(lines) + "\n"


def _render_model(model: BaseModel, indent: int, lines: list[str], commented: set[str], prefix: str) -> None:
    pad = " " * indent
    plain_values = model.model_dump(mode="json")
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.description:
            for chunk in textwrap.wrap(field.description, 100 - indent):
                lines.append(f"{pad}# {chunk}")
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            _render_model(value, indent + 2, lines, commented, f"{prefix}{name}.")
            lines.append("")
        elif f"{prefix}{name}" in commented:
            lines.append(f"{pad}# {_scalar_line('', name, plain_values[name])}")
        else:
            lines.append(_scalar_line(pad, name, plain_values[name]))


def _scalar_line(pad: str, name: str, value: Any) -> str:
    return f"{pad}{name}: {_yaml_scalar(value)}"


def _yaml_scalar(value: Any) -> str:
    """A YAML literal for a JSON-compatible value (JSON is valid YAML for the composite cases)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and not _NUMBER.fullmatch(value)
        return value if plain else json.dumps(value)
    return json.dumps(value)


_PLAIN = re.compile(r"[A-Za-z_./~][A-Za-z0-9_./~@+-]*")
_NUMBER = re.compile(r"[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "~"}
