"""One training phase, top to bottom: data, model, loop, checkpoints, metrics.

Runs the same in one process and under torchrun (each rank runs this function).
Read :func:`run_phase` first; the helpers below it are one step each.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.progress import TextColumn
from torch import nn

from taxolab import console, fsio
from taxolab.errors import TaxolabError
from taxolab.training import checkpoint
from taxolab.training.dataset import TokenizedDataset, load_dataset
from taxolab.training.distributed import DistEnv, init_distributed, no_grad_sync, sum_across, wrap_model
from taxolab.training.heap import keep_tensors_on_heap
from taxolab.training.loss import row_loss_sum
from taxolab.training.metrics import MetricsLog, read_metrics
from taxolab.training.model_io import Hardware, default_max_batch_len, load_model, resolve_hardware, shares_prefix
from taxolab.training.optim import build_optimizer, build_scheduler
from taxolab.training.packing import collate_row, epoch_batches, plan_step
from taxolab.training.settings import TrainSettings
from taxolab.training.threads import ThreadTuner, cores_per_process

RESULT_FILE = "phase_result.json"


@dataclass
class PhaseSpec:
    """Everything one phase needs; JSON-serialisable so torchrun workers get it from a file."""

    name: str
    model_dir: Path
    data_file: Path
    out_dir: Path
    settings: TrainSettings
    epochs: int
    learning_rate: float
    effective_batch_size: int
    show_progress: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "model_dir": str(self.model_dir), "data_file": str(self.data_file),
            "out_dir": str(self.out_dir), "settings": self.settings.model_dump(mode="json"),
            "epochs": self.epochs, "learning_rate": self.learning_rate,
            "effective_batch_size": self.effective_batch_size, "show_progress": self.show_progress,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhaseSpec:
        return cls(
            name=data["name"], model_dir=Path(data["model_dir"]), data_file=Path(data["data_file"]),
            out_dir=Path(data["out_dir"]), settings=TrainSettings.model_validate(data["settings"]),
            epochs=data["epochs"], learning_rate=data["learning_rate"],
            effective_batch_size=data["effective_batch_size"], show_progress=data["show_progress"],
        )  # fmt: skip


@dataclass
class PhaseOutcome:
    """What a finished phase left on disk."""

    name: str
    final_dir: Path
    start_model: str = ""
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    metrics_file: Path | None = None
    train_samples: int = 0
    validation_samples: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    tokens_per_second: float = 0.0
    epochs: int = 0
    """Epochs the phase trained (0 in a record written before this was kept)."""

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "final_dir": str(self.final_dir), "metrics_file": str(self.metrics_file)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhaseOutcome:
        return cls(**{**data, "final_dir": Path(data["final_dir"]), "metrics_file": Path(data["metrics_file"])})


def run_phase(spec: PhaseSpec) -> PhaseOutcome:
    """Train one phase to the end, resuming from its saved state if a previous run was cut short."""
    settings = spec.settings
    hardware = resolve_hardware(settings)
    env = init_distributed(hardware.device_type)
    tuner = _thread_tuner(settings, hardware, env.local_world_size)
    if hardware.device_type == "cpu":
        # 1.12x tokens/s where memory allows (taxolab.training.heap); each local process needs its share.
        keep_tensors_on_heap(processes=env.local_world_size)
    torch.manual_seed(settings.seed)

    data = load_dataset(spec.data_file, spec.model_dir, max_seq_len=settings.max_seq_len, workers=settings.data_workers)
    train, valid = data.split(settings.validation_split, settings.validation_max_samples, settings.seed)
    if not train.samples:
        raise TaxolabError(f"{spec.data_file}: no usable training samples ({_dropped_text(data)})")
    # Samples drawn anew for each epoch (mix.epoch_variants) make epochs differ a little in size.
    epoch_samples = [train.epoch_indices(epoch) for epoch in range(spec.epochs)]
    epoch_steps = [math.ceil(len(ids) / spec.effective_batch_size) for ids in epoch_samples]
    total_steps = sum(epoch_steps)
    if not total_steps:
        raise TaxolabError(
            f"{spec.data_file}: no sample is trained in the phase's {spec.epochs} epoch(s): every row's `variant` "
            "names other epochs (a row tagged [v, N] is trained in the epochs e with e mod N = v)"
        )

    model = load_model(spec.model_dir, settings, hardware).to(env.device)
    model = wrap_model(model, env, settings.distributed)
    model.train()
    optimizer = build_optimizer(model, settings, spec.learning_rate)
    scheduler = build_scheduler(optimizer, settings, total_steps)
    max_row = default_max_batch_len(settings, hardware)

    state_file = spec.out_dir / "state" / checkpoint.STATE_FILE
    progress: dict[str, Any] = {"epoch": 0, "batch": 0, "step": 0, "samples_seen": 0, "checkpoints": [], "seconds": 0.0}
    if state_file.exists():
        progress = checkpoint.load_state(state_file, model, optimizer, scheduler, env)
    metrics = _open_metrics(spec, env, progress["step"])
    ctx = _StepContext(model, optimizer, scheduler, env, hardware, settings, max_row, shares_prefix(settings, hardware))

    with _progress_bar(spec, env, total_steps, progress["step"]) as (bar, task):
        while progress["epoch"] < spec.epochs:
            ids = epoch_samples[progress["epoch"]]
            batches = [
                [ids[i] for i in batch]
                for batch in epoch_batches(len(ids), spec.effective_batch_size, settings.seed, progress["epoch"])
            ]
            for batch in batches[progress["batch"] :]:
                threads = tuner.next_threads() if tuner else torch.get_num_threads()
                stats = _train_step(ctx, batch, train)
                if tuner:
                    tuner.record(threads, stats["tokens"], stats["seconds"])
                stats["threads"] = threads
                progress["step"] += 1
                progress["batch"] += 1
                progress["samples_seen"] += len(batch)
                progress["seconds"] += stats["seconds"]
                row = _metrics_row(progress, stats, epoch_steps[progress["epoch"]])
                if metrics is not None:
                    metrics.log(row)
                bar.update(task, completed=progress["step"], loss=row["loss"], tps=row["tokens_per_s"])
                if _due(settings.checkpoint_every_samples, progress["samples_seen"], len(batch)):
                    _save(ctx, spec, valid, progress, name=f"samples_{progress['samples_seen']}", state_file=state_file)
            progress["epoch"] += 1
            progress["batch"] = 0
            _save(ctx, spec, valid, progress, name=f"epoch_{progress['epoch']}", state_file=state_file)

    if metrics is not None:
        metrics.close()
    outcome = PhaseOutcome(
        name=spec.name,
        final_dir=Path(progress["checkpoints"][-1]["path"]),
        start_model=str(spec.model_dir),
        checkpoints=progress["checkpoints"],
        metrics_file=spec.out_dir / "metrics.jsonl",
        train_samples=len(train.samples),
        validation_samples=len(valid.samples),
        dropped=dict(data.dropped),
        tokens_per_second=_mean_rate(spec.out_dir / "metrics.jsonl"),
        epochs=spec.epochs,
    )
    if env.is_main:
        _plot(spec.out_dir)
        fsio.write_json(spec.out_dir / RESULT_FILE, outcome.to_json())
        # The phase is finished: its resume state (weights + optimizer moments, about 3x the
        # model's size, 1.6 GB for the default model) can never be read again.
        shutil.rmtree(state_file.parent, ignore_errors=True)
    return outcome


@dataclass
class _StepContext:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    env: DistEnv
    hardware: Hardware
    settings: TrainSettings
    max_row: int
    share_prefix: bool


def _train_step(ctx: _StepContext, batch: list[int], data: TokenizedDataset) -> dict[str, float]:
    """One optimizer step on ``batch``: packed rows, summed loss / global trained-token count."""
    started = time.perf_counter()
    samples = data.samples
    plan = plan_step(batch, data.lengths, ctx.env.world_size, ctx.max_row)
    # Every rank holds the whole plan, so the global count needs no communication.
    loss_tokens = sum(samples[i].loss_tokens for i in batch)
    # DDP and FSDP average gradients over ranks; multiplying by world_size turns that into a sum.
    scale = ctx.env.world_size / loss_tokens
    my_rows = plan[ctx.env.rank]
    loss_sum = 0.0
    row_tokens = 0
    for index, row_ids in enumerate(my_rows):
        row = collate_row([samples[i] for i in row_ids], share_prefix=ctx.share_prefix)
        row_tokens += row.input_ids.shape[1]
        no_grad_sync(ctx.model, ctx.env, sync=index == len(my_rows) - 1)
        with _autocast(ctx.hardware):
            row_loss = row_loss_sum(ctx.model, row, ctx.env.device)
        (row_loss * scale).backward()
        loss_sum += float(row_loss.detach())
    grad_norm = _clip(ctx.model, ctx.settings.max_grad_norm)
    lr = ctx.optimizer.param_groups[0]["lr"]
    ctx.optimizer.step()
    ctx.scheduler.step()
    ctx.optimizer.zero_grad(set_to_none=True)
    # Summed with the loss (one collective): `tokens` counts the whole batch, so `row_tokens` counts every rank's rows.
    global_loss, global_row_tokens = sum_across([loss_sum, float(row_tokens)], ctx.env)
    return {
        "loss": global_loss / loss_tokens,
        "grad_norm": grad_norm,
        "lr": lr,
        "tokens": float(sum(len(samples[i].input_ids) for i in batch)),
        "loss_tokens": float(loss_tokens),
        "row_tokens": global_row_tokens,
        "seconds": time.perf_counter() - started,
    }


def evaluate_loss(ctx: _StepContext, data: TokenizedDataset) -> float | None:
    """Mean loss per trained token over ``data`` (all ranks take part; None without data)."""
    if not data.samples:
        return None
    ctx.model.eval()
    plan = plan_step(list(range(len(data.samples))), data.lengths, ctx.env.world_size, ctx.max_row)
    total = 0.0
    with torch.no_grad(), _autocast(ctx.hardware):
        for row_ids in plan[ctx.env.rank]:
            row = collate_row([data.samples[i] for i in row_ids], share_prefix=ctx.share_prefix)
            total += float(row_loss_sum(ctx.model, row, ctx.env.device))
    ctx.model.train()
    (total,) = sum_across([total], ctx.env)
    return total / sum(s.loss_tokens for s in data.samples)


def _save(
    ctx: _StepContext,
    spec: PhaseSpec,
    valid: TokenizedDataset,
    progress: dict[str, Any],
    *,
    name: str,
    state_file: Path,
) -> None:
    """An HF checkpoint (with its validation loss) and the resume state that points past it."""
    val_loss = evaluate_loss(ctx, valid)
    out = spec.out_dir / "checkpoints" / name
    info = {"phase": spec.name, "name": name, "path": str(out), "step": progress["step"],
            "epoch": progress["epoch"], "samples_seen": progress["samples_seen"], "val_loss": val_loss}  # fmt: skip
    checkpoint.export_hf(
        ctx.model, out, base_dir=spec.model_dir, settings=ctx.settings, env=ctx.env, trainer_state=info
    )
    progress["checkpoints"] = [c for c in progress["checkpoints"] if c["name"] != name] + [info]
    checkpoint.save_state(state_file, ctx.model, ctx.optimizer, ctx.scheduler, progress=progress, env=ctx.env)


def _due(every: int, seen: int, just_added: int) -> bool:
    """True when the last step crossed a multiple of ``every`` samples."""
    return every > 0 and seen // every > (seen - just_added) // every


def _clip(model: nn.Module, max_norm: float | None) -> float:
    params = [p for p in model.parameters() if p.grad is not None]
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm is not None else float("inf"))
    full = getattr(norm, "full_tensor", None)  # FSDP2 returns a DTensor
    return float(full() if callable(full) else norm)


def _autocast(hardware: Hardware) -> Any:
    enabled = hardware.autocast_dtype is not None
    return torch.autocast(hardware.device_type, dtype=hardware.autocast_dtype or torch.float32, enabled=enabled)


def _thread_tuner(settings: TrainSettings, hardware: Hardware, local: int) -> ThreadTuner | None:
    """CPU threads: the local processes share the cores (torchrun would leave each with one thread).

    ``threads: auto`` in a single process measures the fastest count while training
    (:mod:`taxolab.training.threads`: on a busy CPU fewer threads avoid a 12x collapse);
    under torchrun the ranks wait for each other, so a rank's step time says little
    about its own thread count, and each keeps cores / processes.
    """
    if hardware.device_type != "cpu":
        return None
    if isinstance(settings.threads, int):
        torch.set_num_threads(settings.threads)
        return None
    torch.set_num_threads(cores_per_process(local))
    if local > 1:
        return None
    return ThreadTuner(cores_per_process(local), set_threads=torch.set_num_threads)


def _open_metrics(spec: PhaseSpec, env: DistEnv, resume_step: int) -> MetricsLog | None:
    if not env.is_main:
        return None
    tb = spec.out_dir / "tensorboard" if spec.settings.tensorboard else None
    return MetricsLog(spec.out_dir / "metrics.jsonl", resume_after_step=resume_step, tensorboard_dir=tb)


def _metrics_row(progress: dict[str, Any], stats: dict[str, float], steps_per_epoch: int) -> dict[str, Any]:
    return {
        "step": progress["step"],
        "epoch": round(progress["epoch"] + progress["batch"] / steps_per_epoch, 4),
        "loss": round(stats["loss"], 6),
        "lr": stats["lr"],
        "grad_norm": round(stats["grad_norm"], 6),
        "tokens": int(stats["tokens"]),
        "loss_tokens": int(stats["loss_tokens"]),
        "row_tokens": int(stats["row_tokens"]),
        "tokens_per_s": round(stats["tokens"] / max(stats["seconds"], 1e-9), 2),
        "threads": int(stats["threads"]),
        "samples_seen": progress["samples_seen"],
    }


def _mean_rate(metrics_file: Path) -> float:
    rows = read_metrics(metrics_file)
    seconds = sum(r["tokens"] / r["tokens_per_s"] for r in rows if r.get("tokens_per_s"))
    return sum(r["tokens"] for r in rows) / seconds if seconds else 0.0


def _plot(out_dir: Path) -> None:
    from taxolab.reports.loss_plot import plot_loss

    plot_loss(read_metrics(out_dir / "metrics.jsonl"), out_dir / "loss.png", title=out_dir.name)


def _dropped_text(data: TokenizedDataset) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in data.dropped.items()) or "the file is empty"


@contextlib.contextmanager
def _progress_bar(spec: PhaseSpec, env: DistEnv, total: int, done: int) -> Iterator[tuple[Any, Any]]:
    """A live bar with loss, tokens/s and ETA on rank 0; hidden elsewhere."""
    show = env.is_main and spec.show_progress
    bar = console.progress(
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[tps]:.0f} tok/s"),
        disable=not show,
        unit="steps",
    )
    task = bar.add_task(f"train {spec.name}", total=total, completed=done, loss=float("nan"), tps=0.0)
    with bar:
        yield bar, task
