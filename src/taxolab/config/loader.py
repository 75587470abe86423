"""Load the effective config: defaults < YAML file < environment < command-line flags.

Validation errors name the file, line and key so the user can fix them in one
go; they never surface as a pydantic traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from taxolab.config import paths
from taxolab.config.schema import Config
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
) -> Config:
    """Build the effective :class:`Config`.

    ``overrides`` are nested dicts from command-line flags (``{"train": {"epochs": 2}}``);
    ``None`` values are ignored so unset flags never clobber the file.
    """
    file = config_file(path)
    data: dict[str, Any] = {}
    doc: CommentedMap | None = None
    if file.exists():
        doc = _read_yaml(file)
        data = plain(doc) if doc is not None else {}
    elif must_exist or path is not None:
        raise TaxolabError(f"{file}: config file not found; create one with `taxolab config init`")
    from_env = env_overrides(os.environ if environ is None else environ)
    from_flags = _drop_none(dict(overrides or {}))
    _merge(data, from_env)
    _merge(data, from_flags)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        keys = [str(k) for k in exc.errors()[0]["loc"]]
        if _has_path(from_flags, keys):
            source = "command-line flag"
        elif _has_path(from_env, keys):
            source = f"environment {ENV_PREFIX}{'__'.join(k.upper() for k in keys)}"
        else:
            source = None
        raise _config_error(exc, file if doc is not None else None, doc, source) from None


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


def _config_error(
    exc: ValidationError, file: Path | None, doc: CommentedMap | None, source: str | None
) -> TaxolabError:
    """First problem as one line (``file:line:col: key: problem``) plus a count of the rest."""
    errors = exc.errors()
    first = errors[0]
    keys = [str(k) for k in first["loc"]]
    dotted = ".".join(keys)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key (see `taxolab config show` for valid keys)"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    text = f"{dotted}: {message}{more}"
    if source is not None:
        return TaxolabError(f"{source}: {text}")
    if file is None or doc is None:
        return TaxolabError(f"config: {text}")
    return LocatedError(_locate(file, doc, keys), text)


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
