"""The model half of the loop: train on the mix, evaluate base vs trained, convert the result to GGUF.

Each function does one stage's work through the owning package's public
API and returns the JSON outputs the manifest records; ``paths`` lists what
must still exist for the stage to count as done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from taxolab.config import Config
from taxolab.console import stderr
from taxolab.workflow.layout import remove_stale_siblings


def train_model(
    config: Config, mix_dir: Path, out_dir: Path, *, show_progress: bool, debug: bool = False
) -> dict[str, Any]:
    """Multi-phase training on the mix; a rerun into the same ``out_dir`` resumes from its journal."""
    from taxolab.training.api import resolve_student, train

    remove_stale_siblings(out_dir)
    student = resolve_student(config.models.student, config.paths.resolved("models"))
    result = train(
        mix_dir,
        model_path=student,
        output_dir=out_dir,
        settings=config.train,
        select_best=checkpoint_selector(mix_dir / "test", batch_size=config.evaluate.batch_size),
        show_progress=show_progress,
        debug=debug,
    )
    data = result.to_json()
    data["paths"] = [str(result.final_dir)]
    data["student"] = str(student)
    return data


def checkpoint_selector(test_dir: Path, *, batch_size: int) -> Callable[[list[Path]], Path] | None:
    """mmlu_branch picks the best of several checkpoints when there are test questions; one needs no choosing."""
    if not any(test_dir.glob("*.jsonl")):
        return None
    from taxolab.evaluation.mmlu_branch import make_selector

    select = make_selector(test_dir, batch_size=batch_size)

    def choose(checkpoints: list[Path]) -> Path:
        if len(checkpoints) == 1:
            return checkpoints[0]
        stderr.print(f"choosing among {len(checkpoints)} checkpoints by mmlu_branch accuracy")
        return select(checkpoints)

    return choose


def evaluate_models(
    config: Config,
    trained: Path,
    *,
    test_dir: Path,
    taxonomy_root: Path,
    taxonomy_base: str,
    benchmarks: list[str],
    out_dir: Path,
) -> dict[str, Any]:
    """Base (the student training started from) against trained on ``benchmarks``; results.json + report.html."""
    from taxolab.evaluation.api import evaluate

    settings = config.evaluate.model_copy(
        update={
            "model": str(trained),
            "base_model": config.evaluate.base_model or config.models.student,
            # the mix folder is this run's data run: mmlu_branch reads its test/, recall its heldout/
            "tasks_dir": test_dir.parent,
            "taxonomy_path": taxonomy_root,
            "taxonomy_base": taxonomy_base,
            "output_dir": out_dir,
        }
    )
    report = evaluate(config.model_copy(update={"evaluate": settings}), benchmarks)
    results = out_dir / "results.json"
    return {
        "paths": [str(results)],
        "results": str(results),
        "html_report": str(report.html_report) if report.html_report else None,
        "skipped": report.skipped,
        "overall": {
            r.benchmark: {"trained": r.trained.overall, "base": r.base.overall if r.base else None}
            for r in report.results
        },
    }


def convert_model(trained: Path, target: Path, outtype: str) -> dict[str, Any]:
    """The trained checkpoint as a GGUF that llama.cpp (``taxolab model chat``) serves."""
    from taxolab.models.convert import convert_to_gguf

    if target.parent.is_dir():
        for old in target.parent.glob("*.gguf"):
            old.unlink()
    converted = convert_to_gguf(trained, target, outtype=outtype)
    return {
        "paths": [str(converted.output)],
        "gguf": str(converted.output),
        "outtype": outtype,
        "bytes": converted.size_bytes,
    }
