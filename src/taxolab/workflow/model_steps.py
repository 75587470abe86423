"""The model half of the loop: train on the mix, evaluate base vs trained, convert the result to GGUF.

Each function does one stage's work through the owning package's public
API and returns the JSON outputs the manifest records; ``paths`` lists what
must still exist for the stage to count as done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from taxolab.config import Config
from taxolab.console import stderr
from taxolab.workflow.layout import remove_stale_siblings

if TYPE_CHECKING:
    from taxolab.evaluation.selection import DevSelector


def train_model(
    config: Config, mix_dir: Path, out_dir: Path, *, show_progress: bool, debug: bool = False
) -> dict[str, Any]:
    """The LAB phases the mix holds (knowledge, skills or both); a rerun into the same ``out_dir`` resumes from its journal."""
    from taxolab.training.api import resolve_student, train

    remove_stale_siblings(out_dir)
    student = resolve_student(config.models.student, config.paths.resolved("models"))
    selector = checkpoint_selector(config, mix_dir)
    result = train(
        mix_dir,
        model_path=student,
        output_dir=out_dir,
        settings=config.train,
        select_best=selector,
        dev_recall=recall_scorer(config, mix_dir, selector),
        show_progress=show_progress,
        debug=debug,
    )
    data = result.to_json()
    data["paths"] = [str(result.final_dir)]
    data["student"] = str(student)
    return data


def checkpoint_selector(config: Config, mix_dir: Path) -> Callable[[list[Path]], Path] | None:
    """``train.select_by`` on the mix's dev split (never its test split); None when that split has nothing to read.

    Recall on dev asks the way the model is trained and evaluated: after
    ``mix.system_prompt``, at most ``evaluate.recall_max_tokens`` per answer.
    """
    how = config.train.select_by
    if how not in ("auto", "mmlu_branch", "recall"):
        return None
    return _dev_selector(config, mix_dir, how)


def recall_scorer(config: Config, mix_dir: Path, selector: Callable[[list[Path]], Path] | None) -> DevSelector | None:
    """What scores recall on the dev split after each phase (``train.phase_recall``), or None.

    ``selector`` itself when it selects by recall (its scores are reused),
    else recall on the mix's dev split asked the way the selector asks; None
    when the setting is off or the split has no held-out pairs (training then
    records why).
    """
    if not config.train.phase_recall:
        return None
    from taxolab.evaluation.selection import DevSelector

    if isinstance(selector, DevSelector) and selector.measure == "recall":
        return selector
    return _dev_selector(config, mix_dir, "recall")


def _dev_selector(config: Config, mix_dir: Path, how: Literal["auto", "mmlu_branch", "recall"]) -> DevSelector | None:
    from taxolab.evaluation.selection import dev_selector

    return dev_selector(
        mix_dir,
        how,
        batch_size=config.evaluate.batch_size,
        device=config.evaluate.device,
        system_prompt=config.mix.system_prompt or None,
        max_tokens=config.evaluate.recall_max_tokens,
        generation_batch_size=config.evaluate.generation_batch_size,
    )


SHIPPED_BENCHMARKS = ("recall", "mmlu_branch", "mmlu", "mt_bench_reference")
"""What the shipped GGUF is scored on beside the checkpoint: every judge-free benchmark of the run."""


def evaluate_models(
    config: Config,
    trained: Path,
    *,
    test_dir: Path,
    taxonomy_root: Path,
    taxonomy_base: str,
    benchmarks: list[str],
    out_dir: Path,
    shipped: Path | None = None,
) -> dict[str, Any]:
    """Base (the student training started from) against trained on ``benchmarks``; results.json + report.html.

    With ``shipped`` (the GGUF the run hands the user), that file is scored too
    on the judge-free benchmarks of the run (:data:`SHIPPED_BENCHMARKS`), beside
    the checkpoint, in ``out_dir/shipped``: recall through its own llama.cpp
    server, log-likelihood benchmarks with transformers on its weights
    de-quantised from the GGUF (the same weights llama.cpp serves). The
    checkpoint's answers and scores come from the cache of the first pass.
    """
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
    outputs: dict[str, Any] = {
        "paths": [str(results)],
        "results": str(results),
        "html_report": str(report.html_report) if report.html_report else None,
        "skipped": report.skipped,
        "overall": {
            r.benchmark: {"trained": r.trained.overall, "base": r.base.overall if r.base else None}
            for r in report.results
        },
    }
    compared = [name for name in SHIPPED_BENCHMARKS if name in benchmarks and name not in report.skipped]
    if shipped is not None and compared:
        outputs["shipped"] = _score_shipped(
            config, settings, trained, shipped, benchmarks=compared, out_dir=out_dir / "shipped"
        )
        outputs["paths"].append(outputs["shipped"]["results"])
    return outputs


def _score_shipped(
    config: Config, settings: Any, trained: Path, shipped: Path, *, benchmarks: list[str], out_dir: Path
) -> dict[str, Any]:
    """The shipped GGUF ("trained" role) against the checkpoint ("base" role): overall per benchmark and difference."""
    from taxolab.evaluation.api import evaluate

    stderr.print(f"scoring the shipped {shipped.name} beside the checkpoint ({', '.join(benchmarks)})", highlight=False)
    beside = settings.model_copy(
        update={"model": str(shipped), "base_model": str(trained), "output_dir": out_dir, "recall_judge": "never"}
    )
    report = evaluate(config.model_copy(update={"evaluate": beside}), benchmarks)
    compared: dict[str, Any] = {}
    for result in report.results:
        gguf, checkpoint = result.trained.overall, result.base.overall if result.base else None
        compared[result.benchmark] = {
            "metric": result.metric,
            "shipped": gguf,
            "checkpoint": checkpoint,
            "difference": gguf - checkpoint if gguf is not None and checkpoint is not None else None,
            "count": sum(result.trained.counts.values()) if result.trained.counts else None,
        }
    return {
        "gguf": str(shipped),
        "checkpoint": str(trained),
        "results": str(out_dir / "results.json"),
        "benchmarks": compared,
        "skipped": report.skipped,
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
