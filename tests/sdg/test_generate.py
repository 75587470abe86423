"""`generate_data` end to end against the scripted fake teacher over HTTP: outputs, counts, resume."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.mixing.messages import validate_sample
from taxolab.sdg.executor import TeacherDownError
from taxolab.sdg.generate import generate_data
from taxolab.taxonomy.model import Leaf
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import chunks_of, config_for, scripted


def generated(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {path.name: fsio.read_jsonl(path) for path in sorted((folder / "generated").glob("*.jsonl"))}


@pytest.mark.parametrize("pipeline", ["simple", "full"])
def test_every_output_of_contract_c(
    pipeline: str, leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    result = generate_data(
        config_for(teacher.url, tmp_path, pipeline=pipeline), leaves=leaves, chunk_source=chunks_of, show_progress=False
    )
    folder = result.output_dir
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["teacher"] == {"model": "fake-teacher", "endpoints": [teacher.url], "local": False}
    counts = manifest["counts"]["leaves"]
    # knowledge: 2 chunks -> 2 seed rows x (chunk + 3 augmentations) x 2 pairs each
    assert counts["knowledge_birds"]["rows"] == 16
    assert counts["compositional_skills_haiku"]["rows"] == 6  # 3 seed examples x scale factor 2
    assert counts["compositional_skills_inclusion"]["rows"] == 6
    assert all(not c["dropped"] for c in counts.values())
    rows = generated(folder)
    knowledge = rows["knowledge_birds.jsonl"]
    assert {row["dataset_type"] for row in knowledge} == {
        "document",
        "summary_detailed",
        "summary_extractive",
        "summary_atomic_facts",
    }
    assert all(row["question"] and row["answer"] and "_raw" in row and "seed_pool" not in row for row in knowledge)
    assert all(row["context"].startswith("A new passage") for row in rows["compositional_skills_inclusion.jsonl"])
    tests = fsio.read_jsonl(folder / "test" / "knowledge_birds.jsonl")
    assert len(tests) == 2
    assert tests[0]["choices"] == ["Crow", "Chickadee", "Eagle", "Owl"] and tests[0]["answer"] == 1
    assert set(tests[0]) == {"question", "choices", "answer", "leaf"}
    run = folder.name
    knowledge_mix = fsio.read_jsonl(folder / f"knowledge_train_msgs_{run}.jsonl")
    skills_mix = fsio.read_jsonl(folder / f"skills_train_msgs_{run}.jsonl")
    assert len(knowledge_mix) == 32 == manifest["counts"]["knowledge_train_msgs"]
    assert len(skills_mix) == 12 + round(32 * 0.3)
    assert all(validate_sample(sample) is None for sample in knowledge_mix + skills_mix)
    styles = {sample["metadata"]["sample_type"] for sample in knowledge_mix}
    assert styles == {"context", "context_with_distractor", "closed_book"}
    if pipeline == "full":
        assert {"faithfulness", "relevancy", "question_quality"} <= set(knowledge[0])


def test_bad_rows_are_dropped_and_counted_not_emptied(leaves: list[Leaf], tmp_path: Path) -> None:
    def picky(request: dict[str, Any]) -> str:
        text = request["messages"][-1]["content"]
        if "Question 0 of haiku" in text and "realistic requests" in request["messages"][0]["content"]:
            return "I cannot think of one."
        return scripted(request)

    with FakeOpenAIServer(picky) as server:
        result = generate_data(config_for(server.url, tmp_path), leaves=leaves[1:2], show_progress=False)
    dropped = result.manifest["counts"]["leaves"]["compositional_skills_haiku"]["dropped"]
    rows = generated(result.output_dir)["compositional_skills_haiku.jsonl"]
    assert sum(dropped.values()) + len(rows) == 6
    assert set(dropped) == {"generate_question: unparseable teacher output"}
    assert all(row["question"] and row["answer"] for row in rows)


def test_teacher_down_halfway_then_rerun_equals_an_uninterrupted_run(leaves: list[Leaf], tmp_path: Path) -> None:
    reference_dir = tmp_path / "reference"
    with FakeOpenAIServer(scripted) as server:
        reference = generate_data(
            config_for(server.url, reference_dir, batch_size=1),
            leaves=leaves,
            chunk_source=chunks_of,
            show_progress=False,
        )
        total_requests = len(server.requests)

    served = {"count": 0}
    lock = threading.Lock()
    dying = FakeOpenAIServer(scripted)

    def dies_after_some(request: dict[str, Any]) -> str:
        """Answer half the requests, then vanish: stop listening and drop open connections."""
        with lock:
            served["count"] += 1
            if served["count"] == total_requests // 2:
                threading.Thread(target=dying.stop).start()
            if served["count"] >= total_requests // 2:
                raise ConnectionAbortedError("the teacher crashed")
        return scripted(request)

    dying.responder = dies_after_some
    config = config_for("http://placeholder", tmp_path / "interrupted", batch_size=1)
    with dying:
        config.generate.endpoint_urls = [dying.url]
        config.client.max_retries = 1
        with pytest.raises(TeacherDownError, match="rerun the same command"):
            generate_data(config, leaves=leaves, chunk_source=chunks_of, show_progress=False)
    folder = next((tmp_path / "interrupted" / "datasets").iterdir())
    assert json.loads((folder / "manifest.json").read_text())["status"] == "running"
    finished = len(list((folder / "checkpoints").rglob("batch-*.json")))
    assert finished > 0

    with FakeOpenAIServer(scripted) as again:
        config.generate.endpoint_urls = [again.url]
        resumed = generate_data(config, leaves=leaves, chunk_source=chunks_of, show_progress=False)
        assert len(again.requests) < total_requests
    assert resumed.output_dir == folder
    assert generated(folder) == generated(reference.output_dir)
    for rows in generated(folder).values():
        keys = [json.dumps(row, sort_keys=True) for row in rows]
        assert len(keys) == len(set(keys))
    assert sum(c["resumed_batches"] for c in resumed.manifest["counts"]["leaves"].values()) > 0


def test_rerun_of_a_finished_run_reuses_everything(
    leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    config = config_for(teacher.url, tmp_path)
    first = generate_data(config, leaves=leaves[1:], show_progress=False, output_dir=tmp_path / "run")
    before = len(teacher.requests)
    second = generate_data(config, leaves=leaves[1:], show_progress=False, output_dir=tmp_path / "run")
    assert len(teacher.requests) == before
    assert generated(first.output_dir) == generated(second.output_dir)


def test_other_settings_refuse_an_existing_folder(
    leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    generate_data(
        config_for(teacher.url, tmp_path), leaves=leaves[1:2], show_progress=False, output_dir=tmp_path / "run"
    )
    with pytest.raises(Exception, match="holds a run with other inputs or settings"):
        generate_data(
            config_for(teacher.url, tmp_path, sdg_scale_factor=3),
            leaves=leaves[1:2],
            show_progress=False,
            output_dir=tmp_path / "run",
        )


def test_concurrency_cap_is_global(leaves: list[Leaf], tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted, latency=0.02) as server:
        generate_data(
            config_for(server.url, tmp_path, concurrency=3, sdg_scale_factor=4), leaves=leaves[1:], show_progress=False
        )
    assert server.max_in_flight == 3


def test_knowledge_documents_come_from_the_mirrored_repo(
    shared_data: Path, teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    from taxolab.taxonomy import load_leaf

    root = shared_data / "taxonomy"
    leaf = load_leaf(root / "knowledge" / "science" / "animals" / "birds" / "black_capped_chickadee" / "qna.yaml", root)
    config = config_for(teacher.url, tmp_path, chunk_word_count=300, sdg_scale_factor=1)
    config.documents.mirrors = {leaf.document.repo: str(shared_data / "summit_knowledge.bundle")}  # type: ignore[union-attr]
    result = generate_data(config, leaves=[leaf], show_progress=False)
    chunks = result.manifest["leaves"][0]["chunks"]
    assert chunks > 3
    rows = generated(result.output_dir)[f"{leaf.name}.jsonl"]
    raw = {row["raw_document"] for row in rows}
    assert len(raw) == chunks and all(len(chunk.split()) <= 300 for chunk in raw)
    assert len(fsio.read_jsonl(result.output_dir / "test" / f"{leaf.name}.jsonl")) == chunks
