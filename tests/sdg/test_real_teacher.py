"""Every shipped pipeline end to end against a real llama.cpp server with the packaged default model.

The 135M teacher follows the prompts only some of the time, so these tests
check that each pipeline runs through, that every generated row is complete,
that rows and drops add up, and that every training sample is valid messages
JSONL -- not how many rows survive.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.config import load_config
from taxolab.llm.endpoint import probe
from taxolab.mixing.messages import validate_sample
from taxolab.taxonomy import load_leaf
from taxolab.taxonomy.model import Leaf
from taxolab.workflow.data import generate_and_mix

pytestmark = pytest.mark.slow

LEAVES = (
    "knowledge/science/animals/birds/black_capped_chickadee",
    "compositional_skills/linguistics/synonyms",
    "compositional_skills/grounded/linguistics/inclusion",
)


def small_leaves(taxonomy: Path) -> list[Leaf]:
    """Three real leaves with one seed example each, to keep the CPU run short."""
    leaves = [load_leaf(taxonomy / leaf / "qna.yaml", taxonomy) for leaf in LEAVES]
    return [dataclasses.replace(leaf, seed_examples=leaf.seed_examples[:1]) for leaf in leaves]


def first_paragraph(leaf: Leaf) -> list[str]:
    """One short chunk: the first seed context stands in for the document (its text comes from it)."""
    text = leaf.seed_examples[0].context or ""
    return [" ".join(text.split()[:50])]


@pytest.mark.parametrize("pipeline", ["simple", "full"])
def test_shipped_pipeline_with_the_default_model(
    pipeline: str, default_server: Any, shared_data: Path, tmp_path: Path
) -> None:
    overrides = {
        "generate": {
            "endpoint_urls": [default_server.url],
            "pipeline": pipeline,
            "sdg_scale_factor": 1,
            "max_num_tokens": 32,
            "batch_size": 1,
        },
        "paths": {"datasets": str(tmp_path)},
    }
    leaves = small_leaves(shared_data / "taxonomy")
    assert probe(default_server.url).slots == default_server.parallel  # the default --concurrency
    result = generate_and_mix(
        load_config(None, overrides), leaves=leaves, chunk_source=first_paragraph, show_progress=False
    )
    manifest = result.manifest
    assert manifest["status"] == "complete"
    for leaf in leaves:
        counts = manifest["counts"]["leaves"][leaf.name]
        rows = fsio.read_jsonl(result.output_dir / "generated" / f"{leaf.name}.jsonl")
        assert len(rows) == counts["rows"]
        assert all(row["question"].strip() and row["answer"].strip() and row["_raw"] for row in rows)
        if not counts["rows"]:
            assert counts["dropped"], "a leaf without rows must say where they were lost"
    test_file = result.output_dir / "test" / f"{leaves[0].name}.jsonl"
    tests = fsio.read_jsonl(test_file) if test_file.is_file() else []  # none when neither teacher nor held-out
    assert all(len(t["choices"]) == 4 and 0 <= t["answer"] < 4 for t in tests)
    run = result.output_dir.name
    for mix in (f"knowledge_train_msgs_{run}.jsonl", f"skills_train_msgs_{run}.jsonl"):
        assert all(validate_sample(sample) is None for sample in fsio.read_jsonl(result.output_dir / mix))
