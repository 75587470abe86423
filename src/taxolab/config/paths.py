"""Where taxolab keeps things, following each platform's conventions.

``TAXOLAB_CONFIG_DIR``, ``TAXOLAB_DATA_DIR`` and ``TAXOLAB_CACHE_DIR`` move the
three roots (tests and CI use them to stay out of the user's home). The cache
holds what can be rebuilt (the default model's HF folder, fetched document
repositories); the data dir holds what the user made.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "taxolab"


def config_dir() -> Path:
    return Path(os.environ.get("TAXOLAB_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("TAXOLAB_DATA_DIR") or platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    return Path(os.environ.get("TAXOLAB_CACHE_DIR") or platformdirs.user_cache_dir(APP))


def default_config_file() -> Path:
    return config_dir() / "config.yaml"
