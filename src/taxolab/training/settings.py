"""Settings for fine-tuning: one section, each field is a YAML key, a CLI flag and its doc.

Phase-specific values (``knowledge_*``, ``skills_*``) fall back to the general
ones when unset, so the ``single`` strategy (one JSONL file) needs only the general
keys; ``lab-knowledge-only`` and ``lab-skills-only`` read their phase's keys.
"""

from __future__ import annotations

from typing import Literal, overload

from pydantic import Field, field_validator

from taxolab.config.affects import selection_only, speed_only
from taxolab.config.sections import Section

Strategy = Literal["auto", "lab-multiphase", "lab-knowledge-only", "lab-skills-only", "single"]
PhaseName = Literal["knowledge", "skills", "single"]
PhaseSetting = Literal["epochs", "learning_rate", "effective_batch_size"]
"""The settings a phase may override (``knowledge_<name>``, ``skills_<name>``)."""


class TrainSettings(Section):
    strategy: Strategy = Field(
        "auto",
        description=(
            "`lab-multiphase` (knowledge then skills), `lab-knowledge-only`, `lab-skills-only`, `single` (one JSONL, "
            "the general epochs and rate); `auto` picks from the mixes the data folder holds."
        ),
    )
    method: Literal["full", "lora"] = Field(
        "full", description="`full` fine-tuning or `lora` adapters (merged into a full checkpoint on save)."
    )
    epochs: int = Field(1, ge=1, description="Epochs per phase (unless the phase sets its own).")
    learning_rate: float | None = Field(
        None, gt=0, description="Peak learning rate (default: 5e-5 for full, 2e-4 for LoRA)."
    )
    effective_batch_size: int = Field(
        16, ge=1, description="Samples per optimizer step (across ranks and accumulation)."
    )
    max_batch_len: int | None = Field(
        None,
        ge=64,
        description="Max tokens in one packed forward pass on one rank; a longer sample runs alone (default: 512 on CPU, where attention over a packed row costs its full square; 16384 on GPU).",
    )
    max_seq_len: int = Field(
        1024, ge=32, description="Samples longer than this are dropped (and counted), never truncated."
    )
    seed: int = Field(42, description="Random seed (data order, LoRA init, dropout).")
    knowledge_epochs: int | None = Field(
        None, ge=1, description="Epochs of the knowledge phase (lab-multiphase, lab-knowledge-only)."
    )
    knowledge_token_budget: int = Field(
        0,
        ge=0,
        description=(
            "Most tokens the knowledge phase trains: a mix of more than this / knowledge_epochs tokens runs fewer "
            "epochs (this // its tokens, at least knowledge_min_epochs), so a long document trains in about a "
            "short one's time and a short one keeps knowledge_epochs; 0: no budget."
        ),
    )
    knowledge_min_epochs: int = Field(
        1,
        ge=1,
        description=(
            "Fewest knowledge epochs train.knowledge_token_budget may leave a mix (never more than knowledge_epochs): "
            "with it, the budget gives short documents extra epochs and long ones this many."
        ),
    )
    knowledge_learning_rate: float | None = Field(None, gt=0, description="Peak learning rate of the knowledge phase.")
    knowledge_effective_batch_size: int | None = Field(
        None, ge=1, description="Samples per optimizer step in the knowledge phase."
    )
    skills_epochs: int | None = Field(None, ge=1, description="Epochs of the skills phase.")
    skills_learning_rate: float | None = Field(None, gt=0, description="Peak learning rate of the skills phase.")
    skills_effective_batch_size: int | None = Field(
        None, ge=1, description="Samples per optimizer step in the skills phase."
    )
    lora_rank: int = Field(8, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(16, gt=0, description="LoRA alpha (scale = alpha / rank).")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input.")
    lora_target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        description="Module names that get LoRA adapters.",
    )
    warmup_ratio: float = Field(0.1, ge=0, le=1, description="Fraction of the optimizer steps spent warming up.")
    lr_scheduler: Literal["cosine", "linear", "constant"] = Field(
        "cosine", description="Learning-rate shape after warmup (decays to 0 for cosine and linear)."
    )
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float | None = Field(1.0, gt=0, description="Clip the gradient norm to this (empty: no clipping).")
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in backward: less memory, about 30% slower."
    )
    checkpoint_every_samples: int = Field(
        0, ge=0, description="Save an HF checkpoint and the resume state every N samples (0: only at epoch ends)."
    )
    validation_split: float = Field(
        0.05, ge=0, lt=1, description="Fraction of each phase's samples held out for validation loss."
    )
    validation_max_samples: int = Field(64, ge=0, description="Cap on held-out validation samples per phase.")
    select_by: Literal["auto", "mmlu_branch", "recall", "val_loss", "last"] = selection_only(
        "auto",
        description="How each phase's checkpoint is chosen (the next phase starts from it; the last phase's is the result): `mmlu_branch` or `recall` on the data run's dev split (never its test split; the last checkpoint unless an earlier one is better beyond chance, exact McNemar p < 0.05), lowest `val_loss`, or the `last`; `auto` = recall on dev/heldout, else mmlu_branch on dev/test, else val_loss.",
    )
    phase_recall: bool = selection_only(
        True,
        description="After training, measure recall on the data run's dev split of the checkpoint each phase hands on (the next phase's start, and the result), reusing the scores checkpoint selection took; a drop from knowledge to skills beyond chance (exact McNemar) is reported with what to change.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="`auto` uses CUDA when available.")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="`auto`: bf16 autocast (fp32 master weights) on GPU and on CPUs with AVX-512 BF16 or AMX (1.2-1.5x the tokens/s of fp32 there, the same recall; docs/train.md), fp32 on other CPUs.",
    )
    attention: Literal["auto", "sdpa", "flash_attention_2", "eager"] = Field(
        "auto", description="Attention kernel: `auto` = flash-attn varlen on GPU when installed, else SDPA."
    )
    distributed: Literal["fsdp", "ddp"] = Field(
        "fsdp", description="Multi-process mode: FSDP2 full sharding or DDP replication."
    )
    nproc_per_node: int = speed_only(
        1, ge=1, description="Training processes per node (GPUs per node; >1 launches torchrun)."
    )
    nnodes: int = speed_only(
        1, ge=1, description="Number of nodes (run the same command on each with its --node-rank)."
    )
    node_rank: int = speed_only(0, ge=0, description="This node's rank among --nnodes.")
    rdzv_endpoint: str | None = speed_only(
        None, description="HOST:PORT of node 0 for the torchrun rendezvous (default: a free port on 127.0.0.1)."
    )
    threads: int | Literal["auto"] = speed_only(
        "auto",
        description="CPU threads per training process: a number (1 or more), or `auto` = cores / processes, and in a single process the count that measured fastest, re-measured while training (a busy CPU makes fewer threads faster).",
    )
    data_workers: int | None = speed_only(
        None, ge=1, description="Processes that tokenise data (default: all cores for large inputs, 1 for small)."
    )
    shared_prefix: bool = speed_only(
        True,
        description="Samples packed into one forward pass that open with the same untrained tokens (the system turn) keep them once (SDPA attention only): the same loss and gradients, 1.15x the tokens/s of a whole CPU knowledge phase (docs/train.md, 'Shared openings').",
    )
    tensorboard: bool = speed_only(False, description="Also write TensorBoard logs (needs the `tensorboard` package).")

    @field_validator("threads", mode="before")
    @classmethod
    def _threads_word(cls, value: object) -> object:
        """One plain message for a bad value instead of one per member of the union."""
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        if isinstance(value, str) and value.strip().isdigit() and int(value) >= 1:
            return int(value)
        raise ValueError(f"expected a number of threads (1 or more) or `auto`, got {value!r}")

    def phase_epochs(self, phase: PhaseName, tokens_per_epoch: int) -> int:
        """The epochs ``phase`` runs on a mix of ``tokens_per_epoch`` tokens (all of them, prompts included).

        The phase's epochs (:meth:`phase_value`), lowered for the knowledge phase to
        ``knowledge_token_budget // tokens_per_epoch`` when that is fewer, but never below
        ``knowledge_min_epochs`` (nor 1). What
        a fact needs is optimizer steps that show it: a long document's epoch holds more
        steps than a short one's (on the chickadee run, recall on the dev split was the
        same after knowledge epochs 2 and 4; on zebu, with 0.4x the tokens per epoch, it
        rose until epoch 5), so a token budget gives every document about the same
        training time on CPU and short documents their full epochs.
        """
        epochs = self.phase_value(phase, "epochs")
        if phase != "knowledge" or not self.knowledge_token_budget or tokens_per_epoch <= 0:
            return epochs
        floor = min(epochs, self.knowledge_min_epochs)
        return max(1, floor, min(epochs, self.knowledge_token_budget // tokens_per_epoch))

    @overload
    def phase_value(self, phase: PhaseName, name: Literal["epochs", "effective_batch_size"]) -> int: ...
    @overload
    def phase_value(self, phase: PhaseName, name: Literal["learning_rate"]) -> float | None: ...
    def phase_value(self, phase: PhaseName, name: PhaseSetting) -> int | float | None:
        """``knowledge_epochs`` if set, else ``epochs``: the value a phase runs with.

        ``learning_rate`` may be None (the method's default applies); the others are always set.
        """
        own: int | float | None = getattr(self, f"{phase}_{name}", None) if phase != "single" else None
        general: int | float | None = getattr(self, name)
        return own if own is not None else general
