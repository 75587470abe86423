"""Configuration: one typed model, a YAML file, environment overrides and platform paths.

The public names are imported lazily: each engine's ``settings`` module
imports :mod:`taxolab.config.sections`, and the composed schema imports those
settings modules, so an eager import here would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taxolab.config.loader import config_file, load_config
    from taxolab.config.schema import Config

__all__ = ["Config", "config_file", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "Config":
        from taxolab.config.schema import Config

        return Config
    if name in ("config_file", "load_config"):
        from taxolab.config import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'taxolab.config' has no attribute {name!r}")
