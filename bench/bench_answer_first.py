"""Answer-first yield with the real default teacher: how many document spans get >= 2 usable questions.

Runs the `simple` knowledge pipeline (answer-first: the answer is a span of the
document, the teacher only writes questions) on the chickadee leaf of
../shared/data/taxonomy with the packaged default model served locally, then
mixes. Prints the spans seen, the share with >= 2 valid questions (those give
a held-out question), the share with >= 1, rows and held-out pairs, drops per
reason, the mix's sample counts, and the wall time.

    .venv/bin/python bench/bench_answer_first.py [--max-chunks N] [--questions-per-span 3]

Measured 2026-11-30 on the 2-core machine while other jobs kept it busy (load
5-10), all 15 chunks: 197 spans, 58% with >= 2 valid questions, 82% with >= 1,
274 training rows and 115 held-out pairs, 1,444 s.
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

from taxolab import fsio
from taxolab.config import load_config
from taxolab.taxonomy import load_leaf
from taxolab.text import normalize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LEAF = "knowledge/science/animals/birds/black_capped_chickadee"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-chunks", type=int, default=0, help="Only the first N chunks (0: all).")
    parser.add_argument("--questions-per-span", type=int, default=3)
    args = parser.parse_args()

    from taxolab.mixing import LeafSource, MixOptions, build_training_sets
    from taxolab.sdg.generate import generate_data

    root = SHARED / "taxonomy"
    leaf = load_leaf(root / LEAF / "qna.yaml", root)
    assert leaf.document is not None
    out = Path(tempfile.mkdtemp(prefix="bench-answer-first-"))
    config = load_config(
        None,
        {
            "generate": {"pipeline": "simple", "questions_per_span": args.questions_per_span},
            "paths": {"datasets": str(out)},
            "documents": {"mirrors": {leaf.document.repo: str(SHARED / "summit_knowledge.bundle")}, "offline": True},
        },
    )
    chunk_source = None
    if args.max_chunks:
        from taxolab.sdg.chunks import ChunkPlan, estimated_tokens, leaf_chunks

        settings = config.generate
        plan = ChunkPlan.fit(
            settings.chunk_word_count, settings.chunk_overlap, config.serve.max_ctx_size, settings.max_num_tokens
        )

        def chunk_source(item):  # type: ignore[no-untyped-def]
            found = leaf_chunks(item, plan, estimated_tokens, config.documents.model_copy(update={"offline": True}))
            return found[: args.max_chunks]

    started = time.monotonic()
    result = generate_data(config, leaves=[leaf], chunk_source=chunk_source, show_progress=False)
    seconds = time.monotonic() - started
    folder = result.output_dir
    kept = fsio.read_jsonl(folder / "generated" / f"{leaf.name}.jsonl")
    heldout_file = folder / "heldout" / f"{leaf.name}.jsonl"
    heldout = fsio.read_jsonl(heldout_file) if heldout_file.is_file() else []
    dropped = fsio.read_jsonl(folder / "dropped" / f"{leaf.name}.jsonl")
    questions: dict[str, set[str]] = collections.defaultdict(set)
    for row in kept + heldout:
        questions[normalize(row["answer"])].add(normalize(row["question"]))
    spans = set(questions) | {normalize(d["row"]["span"]) for d in dropped if "span" in d["row"]}
    two = sum(1 for span in spans if len(questions.get(span, ())) >= 2)
    one = sum(1 for span in spans if questions.get(span))
    mixed = build_training_sets([LeafSource(leaf, folder)], folder, folder.name, MixOptions.from_config(config))
    print(
        json.dumps(
            {
                "chunks": result.manifest["leaves"][0]["chunks"],
                "spans": len(spans),
                "share_spans_2plus_valid": round(two / max(1, len(spans)), 3),
                "share_spans_1plus_valid": round(one / max(1, len(spans)), 3),
                "training_rows": len(kept),
                "heldout_pairs": len(heldout),
                "dropped": dict(collections.Counter(d["reason"] for d in dropped)),
                "mix": mixed["mixes"],
                "mixed_leaf": mixed["leaves"][leaf.name],
                "seconds": round(seconds),
                "folder": str(folder),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
