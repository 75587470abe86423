"""``taxolab model train``: flags come from :class:`TrainSettings`; the work is ``training.api.train``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click

from taxolab import fsio
from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option, settings_options
from taxolab.console import stdout
from taxolab.datarun import KNOWLEDGE_MIX, SKILLS_MIX, mix_name
from taxolab.training.settings import TrainSettings


@click.command("train")
@click.option(
    "--data-path",
    type=click.Path(path_type=Path, exists=True),
    help="SDG output folder (with knowledge/skills mixes) or one messages JSONL (default: the newest data run).",
)
@click.option(
    "--model-path",
    type=str,
    help="Student to fine-tune: `default`, an HF folder or a model name (default: config models.student).",
)
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path),
    help="Run folder for checkpoints, metrics and the journal (default: <checkpoints>/train-<fingerprint>).",
)
@click.option(
    "--knowledge-data",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Knowledge-phase messages JSONL, instead of --data-path (with --skills-data: lab-multiphase; alone: lab-knowledge-only).",
)
@click.option(
    "--skills-data",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Skills-phase messages JSONL, instead of --data-path (alone: lab-skills-only).",
)
@settings_options("train", TrainSettings, *TrainSettings.model_fields)
@click.option("--debug", "local_debug", is_flag=True, help="Print a few samples with their trained tokens highlighted.")
@json_option
@click.pass_obj
def command(
    app: AppContext,
    *,
    data_path: Path | None,
    model_path: str | None,
    output_dir: Path | None,
    knowledge_data: Path | None,
    skills_data: Path | None,
    local_debug: bool,
    as_json: bool,
    **flags: Any,
) -> None:
    """Fine-tune the student model on generated data (LAB phases, padding-free packing).

    \b
    Examples:
      taxolab model train                                 # newest data run, default student
      taxolab model train --data-path mix.jsonl --method lora --epochs 2
      taxolab model train --nproc-per-node 8 --max-batch-len 60000    # one node, 8 GPUs, FSDP2
      taxolab model train --knowledge-data k.jsonl --skills-data s.jsonl --knowledge-epochs 2
    A rerun of the same command resumes where it stopped.
    """
    from taxolab.training.api import latest_data_run, resolve_student, train

    config = app.config(flags)
    if knowledge_data or skills_data:
        if data_path:
            raise click.UsageError("give --data-path or the per-phase --knowledge-data/--skills-data, not both")
        data_path = phased_data_folder(knowledge_data, skills_data, config.paths.resolved("checkpoints"))
    result = train(
        data_path or latest_data_run(config.paths.resolved("datasets")),
        model_path=resolve_student(model_path or config.models.student, config.paths.resolved("models")),
        output_dir=output_dir,
        checkpoints_root=config.paths.resolved("checkpoints"),
        settings=config.train,
        show_progress=not as_json,
        debug=app.debug or local_debug,
    )
    emit(result.to_json(), as_json, _render)


def phased_data_folder(knowledge: Path | None, skills: Path | None, checkpoints: Path) -> Path:
    """A data folder holding the given phase files under the mix names training plans phases from.

    ``--knowledge-data``/``--skills-data`` (``ilab``'s ``--phased-phase1-data``/``--phased-phase2-data``)
    name the two files directly; linking them as ``knowledge_train_msgs_*.jsonl`` and
    ``skills_train_msgs_*.jsonl`` into ``<checkpoints>/phased-data/<hash of the paths>`` lets the
    one phase planner (``training.phases.plan_phases``) treat them like an SDG output folder.
    Either file alone trains its phase alone (``lab-knowledge-only``, ``lab-skills-only``).
    """
    files = {"knowledge": knowledge, "skills": skills}
    mixes = {"knowledge": KNOWLEDGE_MIX, "skills": SKILLS_MIX}
    chosen = {name: Path(path).resolve() for name, path in files.items() if path is not None}
    key = hashlib.sha256(json.dumps({k: str(v) for k, v in chosen.items()}, sort_keys=True).encode()).hexdigest()
    folder = checkpoints / "phased-data" / key[:16]
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in chosen.items():
        link = folder / mix_name(mixes[name], "given")
        if link.is_symlink() or link.exists():
            link.unlink()
        try:
            link.symlink_to(source)
        except OSError:  # no symlinks on this file system: copy instead
            fsio.copy_file(source, link)
    return folder


def _render(data: dict[str, Any]) -> None:
    for phase in data["phases"]:
        dropped = sum(phase["dropped"].values())
        stdout.print(
            f"phase {phase['name']}: {phase['train_samples']} samples"
            f" ({dropped} dropped), {phase['tokens_per_second']:.0f} tokens/s -> {phase['final_dir']}"
        )
    stdout.print(f"[bold]trained model[/bold] ({data['selected_by']}): {data['final_dir']}")
    for line in (data.get("phase_recall") or {}).get("lines", []):
        stdout.print(line, highlight=False, markup=False)


COMMANDS = [command]
