"""Configuration: one typed model, a YAML file, environment overrides and platform paths."""

from taxolab.config.loader import config_file, load_config
from taxolab.config.schema import Config

__all__ = ["Config", "config_file", "load_config"]
