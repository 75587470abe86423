"""Which GGUF export loses no recall? Each type against the HF checkpoint it came from, same questions, same run.

    .venv/bin/python bench/bench_export_recall.py [--model CHECKPOINT] [--data RUN_FOLDER] [--types f16 q8_0]
                                                 [--limit 24] [--short]

The checkpoint (default: the packaged default model's HF folder) is converted
to each GGUF type with llama.cpp's converter, and each file answers the recall
questions through its own llama.cpp server: the test split of a data run's
held-out pairs (``--data``, e.g. ``<run>/mix`` of a ``taxolab run``), else the
packaged sample taxonomy's knowledge seed questions. Printed per type, with the
checkpoint (served as f16, what evaluation does) as the peer in the same run:

- facts learned (recall's own rule) for the file and for the checkpoint, and the difference;
- the share of questions whose greedy answer is identical to the checkpoint's;
- the file size relative to f16.

On the packaged default model (never trained on the sample) the "facts
learned" column shows what it already answers; point ``--model`` and ``--data``
at a trained run to measure what the default export (``run.outtype``) costs in
recall (docs/evaluate.md quotes both).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from taxolab.config import load_config
from taxolab.evaluation.api import evaluate
from taxolab.models.convert import convert_to_gguf
from taxolab.models.default import default_hf_dir
from taxolab.taxonomy.sample import write_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="HF checkpoint folder (default: packaged default)")
    parser.add_argument("--data", type=Path, default=None, help="data run folder with heldout/ (the test split)")
    parser.add_argument("--types", nargs="+", default=["f16", "q8_0", "q4_k_m"])
    parser.add_argument("--limit", type=int, default=24, help="at most N questions (recall rows of the data run)")
    parser.add_argument("--short", action="store_true", help="q8_0 only, 8 questions")
    parser.add_argument("--show", type=int, default=0, help="print the first N answer pairs of each type")
    args = parser.parse_args()
    types = ["q8_0"] if args.short else args.types
    limit = 8 if args.short else args.limit
    checkpoint = args.model or default_hf_dir(prepare=True)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        data = args.data
        taxonomy = write_sample(root / "taxonomy", cache_dir=root / "documents").taxonomy
        questions = root / "questions.jsonl"
        if data is not None:
            rows = [json.loads(line) for path in sorted((data / "heldout").glob("*.jsonl")) for line in path.open()]
            questions.write_text("".join(json.dumps(row) + "\n" for row in rows[:limit]))
        base = {
            "cache_dir": str(root / "cache"),
            "taxonomy_path": str(taxonomy),
            "taxonomy_base": "empty",
            "recall_judge": "never",
            "recall_data": str(questions) if data is not None else None,
            "tasks_dir": str(root / "no-data-run"),
        }
        sizes: dict[str, int] = {}
        print(f"checkpoint {checkpoint}; questions: {data or 'sample knowledge seeds'}")
        print(f"{'type':8} {'MB':>7} {'vs f16':>7} {'learned':>8} {'ckpt':>6} {'diff':>6} {'same answer':>11}")
        for outtype in types:
            gguf = convert_to_gguf(checkpoint, root / f"model.{outtype}.gguf", outtype=outtype)
            sizes[outtype] = gguf.size_bytes
            settings = {
                **base,
                "model": str(gguf.output),
                "base_model": str(checkpoint),
                "output_dir": str(root / outtype),
            }
            report = evaluate(load_config(None, {"evaluate": settings}), ["recall"])
            (result,) = report.results
            rows = [json.loads(line) for line in Path(result.files["rows"]).read_text().splitlines()]
            answers: dict[str, dict[str, str]] = {}
            for row in rows:
                answers.setdefault(row["id"], {})[row["model"]] = (row["answers"] or [""])[0]
            same = sum(1 for pair in answers.values() if pair.get("trained") == pair.get("base")) / len(answers)
            shipped, peer = result.trained.overall or 0.0, (result.base.overall if result.base else None) or 0.0
            ratio = gguf.size_bytes / sizes["f16"] if "f16" in sizes else float("nan")
            print(
                f"{outtype:8} {gguf.size_bytes / 1e6:7.1f} {ratio:7.2f} {shipped:8.3f} {peer:6.3f} "
                f"{shipped - peer:+6.3f} {same:11.2f}  ({len(answers)} questions)"
            )
            for key, pair in list(answers.items())[: args.show]:
                print(f"  {key}\n    {outtype}: {pair.get('trained')!r}\n    checkpoint: {pair.get('base')!r}")


if __name__ == "__main__":
    main()
