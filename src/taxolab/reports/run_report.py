"""The report of one ``taxolab run``: one self-contained HTML page a colleague can read and reproduce from.

Everything comes from what the stages recorded in the run manifest and the
files they left (generated rows, metrics, evaluation results), so a rerun
whose stages were all skipped writes the same report.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from taxolab import fsio
from taxolab.datarun import GENERATED, DataRun
from taxolab.evaluation.results import BenchmarkResult, ModelScores
from taxolab.mixing.forms import counts_for, summary, trained_counts
from taxolab.reports.eval_format import knowledge_headline
from taxolab.reports.eval_html import _section as benchmark_section
from taxolab.reports.loss_plot import plot_loss
from taxolab.training.metrics import read_metrics

if TYPE_CHECKING:  # the workflow calls this module, never the other way round (no import cycle)
    from taxolab.workflow.layout import RunLayout
    from taxolab.workflow.manifest import RunManifest

_TEMPLATES = Path(__file__).parent
SAMPLE_ROWS = 3
REPORT_COLUMNS = ("dataset_type", "context", "document", "question", "answer")


def sample_rows(folder: Path, leaf: str, limit: int = 3, width: int = 400) -> list[dict[str, Any]]:
    """A few generated rows of a leaf for the report: the columns a reader checks, long texts shortened."""
    path = DataRun(folder).leaf_file(GENERATED, leaf)
    rows = []
    for row in (fsio.read_jsonl(path) if path.is_file() else [])[:limit]:
        shown = {key: row[key] for key in REPORT_COLUMNS if row.get(key)}
        rows.append({k: v[:width] + " ..." if isinstance(v, str) and len(v) > width else v for k, v in shown.items()})
    return rows


def write_run_report(layout: RunLayout, manifest: RunManifest, *, chat_command: str) -> Path:
    """Render ``report.html`` in the run folder and return its path."""
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("run_report.html.j2").render(**report_context(layout, manifest, chat_command))
    fsio.write_text(layout.report, html)
    return layout.report


def report_context(layout: RunLayout, manifest: RunManifest, chat_command: str) -> dict[str, Any]:
    """Everything the template shows, gathered from the manifest and the stages' files."""
    stages = manifest.stages
    info = manifest.info
    taxonomy = stages["taxonomy"].outputs if "taxonomy" in stages else {"leaves": []}
    counts = _trained_forms(stages)
    return {
        "run": layout.name,
        "run_dir": str(layout.root),
        "info": info,
        "written": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "chat_command": chat_command,
        "taxonomy": taxonomy,
        "leaves": [_leaf_data(leaf, stages, counts.get(leaf["name"])) for leaf in taxonomy["leaves"]],
        "mix": stages["mix"].outputs.get("mixes", {}) if "mix" in stages else {},
        "forms": _forms(counts),
        "forms_epochs": next((c["epochs_trained"] for c in counts.values() if "epochs_trained" in c), None),
        "forms_variants": max((int(c.get("epoch_variants", 1)) for c in counts.values()), default=1),
        "training": _training(stages["train"].outputs, layout) if "train" in stages else None,
        "evaluation": _evaluation(stages["evaluate"].outputs) if "evaluate" in stages else None,
        "gguf": stages["convert"].outputs if "convert" in stages else None,
        "timings": [
            {
                "name": name,
                "seconds": round(record.seconds, 1),
                "finished": _clock(record.finished),
                "throughput": _throughput(record.outputs.get("throughput")),
            }
            for name, record in stages.items()
        ],
        "total_seconds": round(sum(record.seconds for record in stages.values()), 1),
        "versions": info.get("versions", {}),
        "settings_json": json.dumps(
            {"profile": info.get("profile"), "options": info.get("options"), "config": info.get("config")}, indent=2
        ),
    }


def _leaf_data(leaf: dict[str, Any], stages: dict[str, Any], counts: dict[str, Any] | None) -> dict[str, Any]:
    record = stages.get(f"generate:{leaf['name']}")
    generation = record.outputs if record else {}
    mixed = stages["mix"].outputs.get("leaves", {}).get(leaf["name"], {}) if "mix" in stages else {}
    if counts is not None and "epochs_trained" in counts:  # the forms the knowledge phase's epochs trained
        mixed = {**mixed, **summary(counts), "forms_by_kind": counts["by_kind"]}
    folder = Path(generation["folder"]) if generation.get("folder") else None
    return {
        **leaf,
        "counts": generation.get("counts", {}),
        "mixed": mixed,
        "samples": [
            json.dumps(row, indent=1, ensure_ascii=False) for row in sample_rows(folder, leaf["name"], SAMPLE_ROWS)
        ]
        if folder
        else [],
    }


def _trained_forms(stages: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per knowledge leaf, the mix's forms count (:func:`taxolab.mixing.forms.count_forms`) as trained: where
    the knowledge phase ran fewer epochs than ``mix.epoch_variants`` (a token budget), the draws it never
    trained are not counted (:func:`taxolab.mixing.forms.trained_counts`)."""
    folder = stages["mix"].outputs.get("folder") if "mix" in stages else None
    if not folder or not Path(folder).is_dir():
        return {}
    phases = stages["train"].outputs.get("phases", []) if "train" in stages else []
    epochs = next((int(p.get("epochs") or 0) for p in phases if p.get("name") == "knowledge"), 0)
    return {leaf: trained_counts(counts, epochs) for leaf, counts in counts_for(Path(folder)).items()}


def _forms(counts: dict[str, dict[str, Any]], shown: int = 10) -> dict[str, dict[str, Any]]:
    """Per knowledge leaf, the facts left with no trained form and the ``shown`` shortest others."""
    out = {}
    for leaf, leaf_counts in counts.items():
        short = sorted((fact for fact in leaf_counts.get("short", []) if fact["forms"]), key=lambda fact: fact["forms"])
        out[leaf] = {"none": leaf_counts.get("none", []), "shortest": short[:shown], "short": len(short)}
    return out


def _training(outputs: dict[str, Any], layout: RunLayout) -> dict[str, Any]:
    phases = []
    handed_on = {figure["checkpoint"] for figure in (outputs.get("phase_recall") or {}).get("phases", [])}
    for phase in outputs.get("phases", []):
        rows = read_metrics(Path(phase["metrics_file"])) if phase.get("metrics_file") else []
        image = plot_loss(rows, layout.report_assets / f"loss_{phase['name']}.png", title=f"phase {phase['name']}")
        checkpoints = phase.get("checkpoints", [])
        measures = sorted({measure for c in checkpoints for measure in (c.get("dev") or {})})
        phases.append(
            {
                **phase,
                "steps": len(rows),
                "final_loss": rows[-1]["loss"] if rows else None,
                "loss_chart": _data_uri(image) if image else None,
                "dev_measures": measures,
                "checkpoints": [
                    {**c, "dev_cells": [_dev_cell(c, m) for m in measures], "handed_on": c.get("path") in handed_on}
                    for c in checkpoints
                ],
            }
        )
    return {**outputs, "phases": phases}


def _dev_cell(checkpoint: dict[str, Any], measure: str) -> str:
    """``"12 of 30"``: a checkpoint's right answers on the dev split by ``measure``; ``-`` when not scored."""
    score = (checkpoint.get("dev") or {}).get(measure)
    return f"{score['right']} of {score['n']}" if score else "-"


def _evaluation(outputs: dict[str, Any]) -> dict[str, Any]:
    path = Path(outputs["results"])
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"results": {}, "skipped": {}}
    results = [result_from_json(item) for item in data["results"].values()]
    return {
        "headlines": [line for line in map(knowledge_headline, results) if line],
        "model": data.get("model"),
        "base_model": data.get("base_model"),
        "skipped": data.get("skipped", {}),
        "sections": [benchmark_section(result) for result in results],
        "html_report": outputs.get("html_report"),
        "shipped": outputs.get("shipped"),  # the shipped GGUF beside the checkpoint (workflow.model_steps)
    }


def result_from_json(data: dict[str, Any]) -> BenchmarkResult:
    """A :class:`BenchmarkResult` back from its ``to_json`` form (the evaluation stage may have run earlier)."""
    known = {f.name for f in dataclasses.fields(BenchmarkResult)}
    fields = {k: v for k, v in data.items() if k in known}  # older files: min_delta instead of alpha, no items
    fields["trained"] = ModelScores(**fields["trained"])
    fields["base"] = ModelScores(**fields["base"]) if fields.get("base") else None
    fields["scale"] = tuple(fields["scale"])
    fields["files"] = {key: Path(value) for key, value in fields.get("files", {}).items()}
    return BenchmarkResult(**fields)


def headlines_of(results_json: Path) -> list[str]:
    """The knowledge headline lines ("learned X of N held-out facts (base: Y of N)") of an evaluation."""
    path = Path(results_json)
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    results = [result_from_json(item) for item in data.get("results", {}).values()]
    return [line for line in map(knowledge_headline, results) if line]


def _throughput(data: dict[str, Any] | None) -> str:
    """``"1,234 tokens, 56.7 tokens/s"`` from a stage's recorded throughput; empty when it has none."""
    if not data or data.get("per_second") is None:
        return ""
    unit = data["unit"]
    return f"{data['amount']:,.0f} {unit}, {data['per_second']:,.1f} {unit}/s"


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def _clock(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
