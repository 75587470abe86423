"""``train()``: the whole fine-tuning run as one library call (what ``taxolab model train`` does).

The parent process plans the phases, tokenises once (filling the cache the
workers read), runs each unfinished phase (in process, or under torchrun for
several processes), records it in the journal, and finally picks the best
checkpoint of the last phase.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.markup import escape

from taxolab.config import paths
from taxolab.console import stderr
from taxolab.datarun import HELDOUT, TEST, DataRun, has_mixes
from taxolab.errors import TaxolabError
from taxolab.evaluation.selection import DevSelector
from taxolab.training.dataset import TokenizedDataset, load_dataset, load_tokenizer
from taxolab.training.launch import run_distributed, world_size
from taxolab.training.phase_recall import DevScores, measure_phases, skipped
from taxolab.training.phases import (
    Journal,
    PlannedPhase,
    fingerprint,
    plan_phases,
    select_checkpoint,
)
from taxolab.training.preview import render_preview
from taxolab.training.settings import TrainSettings
from taxolab.training.trainer import PhaseOutcome, PhaseSpec, run_phase

DEFAULT_LR = {"full": 5e-5, "lora": 2e-4}


@dataclass
class TrainResult:
    """Where the trained model is, and how each phase went."""

    final_dir: Path
    output_dir: Path
    strategy: str
    selected_by: str
    phases: list[PhaseOutcome] = field(default_factory=list)
    starts: dict[str, Any] = field(default_factory=dict)  # phase -> {"path", "by"}: chosen start of a later phase
    phase_recall: dict[str, Any] = field(default_factory=dict)  # taxolab.training.phase_recall.measure_phases

    def to_json(self) -> dict[str, Any]:
        return {
            "final_dir": str(self.final_dir),
            "output_dir": str(self.output_dir),
            "strategy": self.strategy,
            "selected_by": self.selected_by,
            "starts": self.starts,
            "phases": [p.to_json() for p in self.phases],
            "phase_recall": self.phase_recall,
        }


def train(
    data_path: Path,
    *,
    model_path: Path,
    output_dir: Path | None = None,
    checkpoints_root: Path | None = None,
    settings: TrainSettings | None = None,
    select_best: Callable[[list[Path]], Path] | None = None,
    dev_recall: DevSelector | None = None,
    show_progress: bool = True,
    debug: bool = False,
) -> TrainResult:
    """Fine-tune ``model_path`` (an HF folder) on ``data_path`` (SDG output folder or messages JSONL).

    A rerun with the same arguments continues where a previous one stopped.
    Without ``output_dir`` the run lives in ``checkpoints_root/train-<fingerprint>``,
    so the same command always finds its own folder. ``select_best`` picks among
    each phase's checkpoints (e.g. by recall on the data run's dev split,
    :mod:`taxolab.evaluation.selection`): the chosen checkpoint of a phase is
    where the next phase starts (recorded in the journal before that phase
    starts, so a resumed run continues from the same one), and the choice in
    the last phase is the result. Without it ``settings.select_by`` decides.
    On a multi-node job only node 0 writes the journal and selects.

    With ``settings.phase_recall`` the checkpoint each phase hands on is
    scored for recall on the dev split (:mod:`taxolab.training.phase_recall`)
    by ``dev_recall`` (default: ``select_best`` when it selects by recall, so
    its scores are reused, else a recall selector on ``data_path``'s dev split);
    the figures are ``TrainResult.phase_recall``.
    """
    settings = settings or TrainSettings.model_validate({})
    if not (Path(model_path) / "config.json").exists():
        raise TaxolabError(f"{model_path}: not an HF model folder (no config.json); convert GGUF models first")
    strategy, planned = plan_phases(Path(data_path), settings.strategy)
    if settings.strategy == "auto" and strategy in ("lab-knowledge-only", "lab-skills-only"):
        missing = "skills" if planned[0].name == "knowledge" else "knowledge"
        stderr.print(f"training the {planned[0].name} phase alone ({strategy}): the data has no {missing} mix")
    run_id = fingerprint(model_path, planned, settings)
    root = Path(checkpoints_root) if checkpoints_root else paths.data_dir() / "checkpoints"
    output_dir = Path(output_dir) if output_dir else root / f"train-{run_id}"
    inputs = {
        "model": str(model_path),
        "data": {p.name: str(p.data_file) for p in planned},
        "settings": settings.model_dump(mode="json"),
        "versions": _versions(),
    }
    leader = settings.node_rank == 0
    journal = Journal(output_dir, run_id, strategy, inputs, writer=leader)

    if settings.select_by in ("val_loss", "last"):
        select_best = None  # asked for by name: no evaluation overrides it
    elif select_best is None and leader:
        select_best = _evaluation_selector(Path(data_path), settings)
    recall, no_recall = _recall_scorer(Path(data_path), settings, select_best, dev_recall, leader=leader)
    scores = DevScores(journal, [s for s in (select_best, recall) if isinstance(s, DevSelector)])
    outcomes: list[PhaseOutcome] = []
    start_model = Path(model_path)
    for index, phase in enumerate(planned, start=1):
        done = journal.finished(phase.name)
        if done is None:
            if outcomes and settings.nnodes == 1:  # several nodes must all start from the same weights
                start_model = _phase_start(journal, phase.name, outcomes[-1], select_best, scores)
            spec = _phase_spec(phase, index, start_model, output_dir, settings=settings, show=show_progress)
            data = _prepare_data(spec, debug)
            tokens = sum(data.lengths[i] for i in data.epoch_indices(0))
            epochs = settings.phase_epochs(phase.name, tokens)
            if epochs != spec.epochs:
                stderr.print(
                    f"phase {phase.name}: {epochs} epochs, not {spec.epochs}: {tokens:,} tokens per epoch "
                    f"over train.knowledge_token_budget {settings.knowledge_token_budget:,}"
                    + (
                        ", raised to train.knowledge_min_epochs"
                        if settings.knowledge_token_budget // tokens < epochs
                        else ""
                    )
                )
                spec = replace(spec, epochs=epochs)
            started = time.time()
            outcome = run_distributed(spec, run_id) if world_size(settings) > 1 else run_phase(spec)
            journal.record(phase.name, outcome.to_json(), started)
        else:
            outcome = PhaseOutcome.from_json(done)
        outcomes.append(outcome)
        start_model = outcome.final_dir

    last_only = settings.select_by == "last" or not leader
    scores.load(outcomes[-1])
    selected, how = select_checkpoint(outcomes[-1].checkpoints, select_best, last=last_only)
    scores.keep(outcomes[-1])
    journal.record_selection(selected, how)
    starts = dict(journal.record_.info.get("starts", {}))
    figures = measure_phases(outcomes, selected, recall, scores) if recall is not None else skipped(no_recall)
    return TrainResult(selected, output_dir, strategy, how, outcomes, starts, figures)


def _phase_spec(
    phase: PlannedPhase, index: int, start_model: Path, output_dir: Path, *, settings: TrainSettings, show: bool
) -> PhaseSpec:
    learning_rate = settings.phase_value(phase.name, "learning_rate") or DEFAULT_LR[settings.method]
    return PhaseSpec(
        name=phase.name,
        model_dir=start_model,
        data_file=phase.data_file,
        out_dir=output_dir / f"phase{index}_{phase.name}",
        settings=settings,
        epochs=settings.phase_value(phase.name, "epochs"),
        learning_rate=float(learning_rate),
        effective_batch_size=settings.phase_value(phase.name, "effective_batch_size"),
        show_progress=show,
    )


def _prepare_data(spec: PhaseSpec, debug: bool) -> TokenizedDataset:
    """Tokenise in the parent (fills the cache for every worker) and report what was left out."""
    data = load_dataset(
        spec.data_file, spec.model_dir, max_seq_len=spec.settings.max_seq_len, workers=spec.settings.data_workers
    )
    per_epoch = sorted({len(data.epoch_indices(epoch)) for epoch in range(spec.epochs)})
    span = "-".join(str(n) for n in dict.fromkeys((per_epoch[0], per_epoch[-1])))
    varied = f" ({span} per epoch: epoch variants)" if per_epoch[-1] < len(data.samples) else ""
    stderr.print(f"phase {spec.name}: {len(data.samples)} samples from {spec.data_file.name}{varied}")
    for reason, count in sorted(data.dropped.items()):
        lines = data.bad_lines.get(reason, [])
        where = ", ".join(f"{spec.data_file}:{number}" for number in lines)
        more = ", ..." if count > len(lines) and lines else ""
        at = f" (at {escape(where)}{more})" if lines else ""
        stderr.print(f"  [yellow]dropped {count}[/yellow]: {escape(reason)}{at}", markup=True, soft_wrap=True)
    if debug:
        tokenizer = load_tokenizer(spec.model_dir)
        for sample in data.samples[:3]:
            stderr.print(render_preview(tokenizer, sample), markup=True, highlight=False)
    return data


def resolve_student(ref: str, models_dir: Path) -> Path:
    """The HF folder to fine-tune for a model reference: ``default``, a path, or a name in the models folder."""
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(ref, models_dir, prefer="hf")  # `default`: its HF folder, converted on first use
    if resolved.format != "hf":
        raise TaxolabError(f"{ref}: training needs an HF model folder, not {resolved.format}")
    return Path(resolved.path)


def latest_data_run(datasets_dir: Path) -> Path:
    """The newest data-generation run folder that holds a training mix."""
    runs = [run for run in Path(datasets_dir).glob("*") if run.is_dir() and has_mixes(run)]
    if not runs:
        raise TaxolabError(f"{datasets_dir}: no generated data yet; run `taxolab data generate` or pass --data-path")
    return max(runs, key=lambda run: run.stat().st_mtime)


def _versions() -> dict[str, str]:
    import torch
    import transformers

    from taxolab import __version__

    return {"taxolab": __version__, "torch": torch.__version__, "transformers": transformers.__version__}


def _phase_start(
    journal: Journal,
    phase: str,
    previous: PhaseOutcome,
    select_best: Callable[[list[Path]], Path] | None,
    scores: DevScores,
) -> Path:
    """Where ``phase`` starts: the previous phase's chosen checkpoint (once chosen, kept in the journal)."""
    starts = journal.record_.info.setdefault("starts", {})
    if phase in starts and Path(starts[phase]["path"]).is_dir():
        return Path(starts[phase]["path"])
    candidates = [Path(c["path"]) for c in previous.checkpoints]
    if select_best is None or len(candidates) < 2:
        return previous.final_dir
    scores.load(previous)
    chosen = Path(select_best(candidates))
    scores.keep(previous)  # a run cut short in the next phase keeps what this choice scored
    how = getattr(select_best, "description", "evaluation")
    journal.record_selection_start(phase, chosen, how)
    stderr.print(f"phase {phase} starts from {chosen.name} (chosen by {how})", highlight=False)
    return chosen


def _recall_scorer(
    data_path: Path,
    settings: TrainSettings,
    select_best: Callable[[list[Path]], Path] | None,
    given: DevSelector | None,
    *,
    leader: bool,
) -> tuple[DevSelector | None, str]:
    """What scores the recall after each phase, or None and the reason it is not measured."""
    from taxolab.evaluation.selection import dev_selector

    if not settings.phase_recall:
        return None, "train.phase_recall is off"
    if not leader:
        return None, "measured by node 0"
    if given is not None:
        return given, ""
    if isinstance(select_best, DevSelector) and select_best.measure == "recall":
        return select_best, ""
    if not data_path.is_dir():
        return None, f"{data_path}: one messages file has no dev split; train on a data run folder to measure it"
    recall = dev_selector(data_path, "recall", device=settings.device)
    if recall is None:
        return None, f"{DataRun(data_path).dev_part(HELDOUT)}: no dev split of held-out pairs to measure on"
    return recall, ""


def _evaluation_selector(data_path: Path, settings: TrainSettings) -> Callable[[list[Path]], Path] | None:
    """The data run's dev split chooses (``select_by`` mmlu_branch, recall or auto); the test split never does.

    A data run without a dev split gives None (validation loss decides), unless
    a benchmark was named: then :class:`TaxolabError` says what is missing.
    """
    from taxolab.evaluation.selection import dev_questions, dev_selector

    how = settings.select_by
    if how not in ("auto", "mmlu_branch", "recall") or not Path(data_path).is_dir():
        return None
    selector = dev_selector(Path(data_path), how, device=settings.device)
    if selector is None and how != "auto":
        missing = DataRun(Path(data_path)).dev_part(TEST if how == "mmlu_branch" else HELDOUT)
        raise TaxolabError(
            f"{missing}: --select-by {how} needs the data run's dev split (mix it again with this taxolab); "
            f"found {len(dev_questions(Path(data_path), how))} files"
        )
    return selector
