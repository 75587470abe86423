"""Load the effective config: defaults < YAML file < environment < command-line flags.

Validation errors name the file, line and key so the user can fix them in one
go; they never surface as a pydantic traceback.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from taxolab.config import paths
from taxolab.config.moved import move_keys, old_name
from taxolab.config.schema import Config
from taxolab.console import stderr
from taxolab.errors import LocatedError, SourceLocation, TaxolabError
from taxolab.yamlio import load_yaml, plain

ENV_PREFIX = "TAXOLAB_"
_ENV_RESERVED = {"TAXOLAB_CONFIG", "TAXOLAB_CONFIG_DIR", "TAXOLAB_DATA_DIR", "TAXOLAB_CACHE_DIR", "TAXOLAB_DEBUG"}


def config_file(explicit: Path | None = None) -> Path:
    """The config file in force: ``--config``, then ``$TAXOLAB_CONFIG``, then the platform default."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("TAXOLAB_CONFIG")
    return Path(env) if env else paths.default_config_file()


def load_config(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    must_exist: bool = False,
    flag_names: Mapping[str, str] | None = None,
) -> Config:
    """Build the effective :class:`Config`.

    Keys that moved to another section (:data:`taxolab.config.moved.MOVED`)
    are read under their new names, with one notice line per source on stderr.

    ``overrides`` are nested dicts from command-line flags (``{"train": {"epochs": 2}}``);
    ``None`` values are ignored so unset flags never clobber the file. ``flag_names``
    maps a dotted key to the flag that set it (``{"train.max_seq_len": "--max-seq-len"}``),
    so a bad value is reported under the flag the user typed.
    """
    file = config_file(path)
    data: dict[str, Any] = {}
    doc: CommentedMap | None = None
    if file.exists():
        doc = _read_yaml(file)
        data = plain(doc) if doc is not None else {}
    elif must_exist or path is not None:
        spelled = f"--config {file} " if path is not None else ""
        raise TaxolabError(f"{file}: config file not found; create it with `taxolab {spelled}config init`")
    from_env = env_overrides(os.environ if environ is None else environ)
    from_flags = _drop_none(dict(overrides or {}))
    notices = [
        _move_file_keys(file, doc, data) if doc is not None else None,
        move_keys(from_env, "environment"),
        move_keys(from_flags, "command-line flags"),
    ]
    for notice in filter(None, notices):
        stderr.print(notice, highlight=False, soft_wrap=True)
    _merge(data, from_env)
    _merge(data, from_flags)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        where = file if doc is not None else None
        raise _config_error(exc, where, doc, from_env, from_flags, flag_names=flag_names) from None


def _move_file_keys(file: Path, doc: CommentedMap, data: dict[str, Any]) -> str | None:
    """:func:`~taxolab.config.moved.move_keys` for the file's layer, each old key with its line."""

    def line(key: str) -> str:
        return f" (line {_locate(file, doc, key.split('.')).line})"

    return move_keys(data, str(file), line)


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``TAXOLAB_TRAIN__EPOCHS=3`` -> ``{"train": {"epochs": 3}}`` (values parsed as YAML scalars)."""
    result: dict[str, Any] = {}
    yaml = YAML(typ="safe")
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _ENV_RESERVED or "__" not in name:
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = yaml.load(raw) if raw.strip() else None
        except MarkedYAMLError:
            value = raw
        node = result
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return result


def _read_yaml(file: Path) -> CommentedMap | None:
    doc = load_yaml(file, "config")
    if doc is None:
        return None
    if not isinstance(doc, CommentedMap):
        raise LocatedError(SourceLocation(file, 1, 1), "the config must be a mapping of sections (paths:, train:, ...)")
    return doc


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (_drop_none(v) if isinstance(v, dict) else v) for k, v in data.items() if v is not None}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value


def _has_path(data: Mapping[str, Any], keys: list[str]) -> bool:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


class ConfigError(TaxolabError):
    """The config (file, environment or flags) has invalid settings; ``problems`` holds one line per setting."""

    def __init__(self, problems: list[str], summary: str | None = None) -> None:
        self.problems = problems
        super().__init__("\n".join([summary, *problems]) if summary else "\n".join(problems))


def _config_error(
    exc: ValidationError,
    file: Path | None,
    doc: CommentedMap | None,
    from_env: Mapping[str, Any],
    from_flags: Mapping[str, Any],
    *,
    flag_names: Mapping[str, str] | None = None,
) -> TaxolabError:
    """Every problem, one line each (``file:line:col: key: problem``), sorted by line.

    One problem is a :class:`LocatedError` (or a plain one-line error for a flag
    or environment variable); several are a :class:`ConfigError` whose first line
    counts them and says how to fix the file. No problem is summarised away:
    someone upgrading an old config needs every removed key at once.
    """
    located: list[tuple[SourceLocation | None, str]] = []
    for error in exc.errors():
        keys = [str(k) for k in error["loc"]]
        text = f"{'.'.join(keys)}: {_describe_problem(error, keys)}"
        flag = (flag_names or {}).get(".".join(keys))
        if _has_path(from_flags, keys) and flag:
            located.append((None, f"{flag}: {_describe_problem(error, keys)} [config: {'.'.join(keys)}]"))
        elif _has_path(from_flags, keys):
            located.append((None, f"command-line flag: {text}"))
        elif _has_path(from_env, keys):
            located.append((None, f"environment {ENV_PREFIX}{'__'.join(k.upper() for k in keys)}: {text}"))
        elif file is not None and doc is not None:
            old = old_name(".".join(keys))
            if old is not None and not _has_path(doc, keys) and _has_path(doc, old.split(".")):
                # a moved key written under its old name: point at the line the user wrote
                located.append((_locate(file, doc, old.split(".")), f"{text} (written as {old})"))
            else:
                located.append((_locate(file, doc, keys), text))
        else:
            located.append((None, f"config: {text}"))
    in_file = sorted((where, text) for where, text in located if where is not None)
    elsewhere = [text for where, text in located if where is None]
    if len(located) == 1:
        where, text = located[0]
        return LocatedError(where, f"{text} ({edit_hint(where.path)})") if where is not None else TaxolabError(text)
    lines = [f"{where}: {text}" for where, text in in_file] + elsewhere
    fix = f"; {edit_hint(file)}" if in_file and file is not None else ""
    return ConfigError(lines, f"{len(lines)} config problems{fix}:")


def edit_hint(file: Path) -> str:
    """How to open ``file`` in the editor: ``config edit`` works on an invalid file (``config show`` does not)."""
    default = config_file()
    spelled = "" if Path(file).absolute() == default.absolute() else f"--config {file} "
    return f"fix with `taxolab {spelled}config edit`"


def _describe_problem(error: Mapping[str, Any], keys: list[str]) -> str:
    """pydantic's message, except for unknown keys: say what is allowed there instead of a loop back to config."""
    if error["type"] != "extra_forbidden":
        return str(error["msg"])
    allowed = _allowed_keys(keys[:-1])
    if allowed is None:
        return "unknown key (remove it)"
    close = difflib.get_close_matches(keys[-1], allowed, n=1, cutoff=0.75)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    if not keys[:-1]:
        return f"unknown section, not a setting of this taxolab version; remove it (sections: {', '.join(allowed)})"
    return (
        f"unknown key, not a setting of this taxolab version; remove it "
        f"(keys of {'.'.join(keys[:-1])}: {', '.join(allowed)})"
    )


def _allowed_keys(keys: list[str]) -> list[str] | None:
    """The field names of the config section at ``keys`` (``[]``: the top level), or None if not a section."""
    model: Any = Config
    for key in keys:
        fields = getattr(model, "model_fields", None)
        if not fields or key not in fields:
            return None
        model = fields[key].annotation
    fields = getattr(model, "model_fields", None)
    return list(fields) if isinstance(model, type) and fields else None


def _locate(file: Path, doc: CommentedMap, keys: list[str]) -> SourceLocation:
    node: Any = doc
    line, col = 1, 1
    for key in keys:
        if isinstance(node, CommentedMap) and key in node:
            kline, kcol = node.lc.key(key)
            line, col = kline + 1, kcol + 1
            node = node[key]
        else:
            break
    return SourceLocation(file, line, col)
