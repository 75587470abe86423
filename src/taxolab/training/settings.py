"""Settings for fine-tuning (one section; each phase may override some of them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taxolab.config.sections import Section


class TrainSettings(Section):
    strategy: Literal["auto", "lab-multiphase", "lab-skills-only", "single"] = Field(
        "auto",
        description="`lab-multiphase` (knowledge then skills), `lab-skills-only`, `single` (one JSONL); `auto` picks from the data.",
    )
    epochs: int = Field(1, ge=1, description="Epochs per phase.")
    learning_rate: float = Field(2e-5, gt=0, description="Peak learning rate.")
    effective_batch_size: int = Field(
        16, ge=1, description="Samples per optimizer step (across ranks and accumulation)."
    )
    max_batch_len: int = Field(2048, ge=64, description="Max tokens in one packed minibatch on one rank.")
    max_seq_len: int = Field(
        1024, ge=32, description="Samples longer than this are dropped (and counted), never truncated."
    )
    seed: int = Field(42, description="Random seed.")
