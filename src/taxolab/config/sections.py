"""Settings that belong to no single engine: where things live and which models to use.

Each engine package owns its own settings model (``llm.settings``,
``sdg.settings``, ``training.settings``, ...); :mod:`taxolab.config.schema`
composes them into the one :class:`~taxolab.config.schema.Config` that is at
once the YAML file, the documentation and the source of the CLI flags.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from taxolab.config import paths
from taxolab.config.affects import speed_only


class Section(BaseModel):
    """Base for every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathSettings(Section):
    """Folders; empty means the platform default under the data dir."""

    data_dir: Path = speed_only(default_factory=paths.data_dir, description="Root for everything taxolab makes.")
    taxonomy: Path | None = speed_only(None, description="Taxonomy repository (default: <data_dir>/taxonomy).")
    datasets: Path | None = speed_only(None, description="Generated data runs (default: <data_dir>/datasets).")
    checkpoints: Path | None = speed_only(
        None, description="Training runs and checkpoints (default: <data_dir>/checkpoints)."
    )
    models: Path | None = speed_only(None, description="Downloaded and converted models (default: <data_dir>/models).")
    runs: Path | None = speed_only(None, description="End-to-end `taxolab run` folders (default: <data_dir>/runs).")

    def resolved(self, name: str) -> Path:
        """The folder ``name`` (taxonomy, datasets, checkpoints, models, runs) with defaults applied."""
        value = getattr(self, name)
        return Path(value).expanduser() if value else Path(self.data_dir).expanduser() / name


class ModelSettings(Section):
    """Which models play which part. ``default`` means the packaged SmolLM2-135M-Instruct."""

    teacher: str = Field(
        "default",
        description="Teacher for data generation: `default`, a GGUF, an HF folder or a name from `model list`.",
    )
    student: str = Field(
        "default", description="Model to fine-tune: `default`, an HF folder or a name from `model list`."
    )
    judge: str = Field(
        "default", description="Judge for evaluation: `default`, a GGUF, an HF folder or a name from `model list`."
    )
