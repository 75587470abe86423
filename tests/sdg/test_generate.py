"""`generate_data` end to end against the scripted fake teacher over HTTP: outputs, counts, resume."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.sdg.executor import TeacherDownError
from taxolab.sdg.generate import generate_data
from taxolab.sdg.runs import read_manifest
from taxolab.taxonomy.model import Leaf
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import CHUNKS, chunks_of, config_for, scripted


def generated(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {path.name: fsio.read_jsonl(path) for path in sorted((folder / "generated").glob("*.jsonl"))}


def test_simple_writes_answer_first_rows_heldout_passages_and_tests(
    leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    result = generate_data(
        config_for(teacher.url, tmp_path), leaves=leaves, chunk_source=chunks_of, show_progress=False
    )
    folder = result.output_dir
    manifest = read_manifest(folder)
    assert manifest["status"] == "complete"
    assert manifest["teacher"] == {
        "model": "fake-teacher",
        "endpoints": [teacher.url],
        "local": False,
        "requests": len(teacher.requests),
        "retries": 0,
    }
    counts = manifest["counts"]["leaves"]
    # knowledge: 2 chunks -> 1 seed row each -> 1 span each (a short last sentence joins the one before)
    # -> 3 phrasings per span (generate.questions_per_span) -> 1 held out per span
    assert counts["knowledge_birds"]["seeds"] == 2
    assert counts["knowledge_birds"]["rows"] == 4 and counts["knowledge_birds"]["heldout"] == 2
    assert counts["knowledge_birds"]["passages"] == 2
    assert counts["compositional_skills_haiku"]["rows"] == 6  # 3 seed examples x scale factor 2
    assert counts["compositional_skills_inclusion"]["rows"] == 6
    assert all(not c["dropped"] for c in counts.values())
    rows = generated(folder)
    knowledge = rows["knowledge_birds.jsonl"]
    assert {row["dataset_type"] for row in knowledge} == {"answer_first"}
    for row in knowledge:
        assert row["answer"] == row["span"] and row["answer_original"] in " ".join(CHUNKS) and "_raw" in row
        assert row["document"] in CHUNKS and row["leaf"] == "knowledge_birds" and "seed_pool" not in row
    assert {row["span_id"] for row in knowledge} == {"0:0", "1:0"}
    # an answer opening with "It" names its referent (the sentence before's subject); the document's text is kept
    first = next(row for row in knowledge if row["span_id"] == "0:0")
    assert first["answer"] == CHUNKS[0].replace("It caches", "The black-capped chickadee caches")
    assert first["answer_original"] == CHUNKS[0]
    heldout = fsio.read_jsonl(folder / "heldout" / "knowledge_birds.jsonl")
    assert {h["span_id"] for h in heldout} == {"0:0", "1:0"}
    held = {h["span_id"]: h for h in heldout}
    assert held["0:0"]["answer"] == first["answer"] and held["0:0"]["answer_original"] == CHUNKS[0]
    assert set(held["1:0"]) == {"question", "answer", "leaf", "span_id", "answer_original"}
    assert not {h["question"] for h in heldout} & {row["question"] for row in knowledge}
    assert [p["text"] for p in fsio.read_jsonl(folder / "passages" / "knowledge_birds.jsonl")] == CHUNKS
    assert all(row["context"].startswith("A new passage") for row in rows["compositional_skills_inclusion.jsonl"])
    tests = fsio.read_jsonl(folder / "test" / "knowledge_birds.jsonl")
    assert len(tests) == 2
    assert tests[0]["choices"] == ["Crow", "Chickadee", "Eagle", "Owl"] and tests[0]["answer"] == 1
    assert set(tests[0]) == {"question", "choices", "answer", "leaf", "source"} and tests[0]["source"] == "teacher"
    # generation does not mix
    assert not list(folder.glob("*_train_msgs_*.jsonl")) and not (folder / "messages").exists()


def test_full_keeps_question_first_judged_and_grounded(
    leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    result = generate_data(
        config_for(teacher.url, tmp_path, pipeline="full"),
        leaves=leaves[:1],
        chunk_source=chunks_of,
        show_progress=False,
    )
    counts = result.manifest["counts"]["leaves"]["knowledge_birds"]
    # 2 seed rows x (chunk + 3 augmentations) x 2 pairs; the invented answer of each pair is dropped
    assert counts["rows"] == 8 and counts["dropped"] == {"grounded: ungrounded": 8}
    knowledge = generated(result.output_dir)["knowledge_birds.jsonl"]
    assert {row["dataset_type"] for row in knowledge} == {
        "document",
        "summary_detailed",
        "summary_extractive",
        "summary_atomic_facts",
    }
    assert all("penguin" not in row["answer"].lower() for row in knowledge)
    assert {"faithfulness", "relevancy", "question_quality"} <= set(knowledge[0])
    dropped = fsio.read_jsonl(result.output_dir / "dropped" / "knowledge_birds.jsonl")
    assert len(dropped) == 8 and all(d["reason"] == "grounded: ungrounded" for d in dropped)
    assert "Antarctica" in dropped[0]["row"]["answer"] and "generate_qa" in dropped[0]["row"]["_raw"]
    assert dropped[0]["detail"]["missing_names"] == ["antarctica"]


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
    assert (read_manifest(folder) or {})["status"] == "running"
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
    documents = {row["document"] for row in rows}
    # rows from (nearly) every chunk: the scripted teacher asks about a span's longest word, which in a
    # chunk of measurements is "(2.50–2.66" -> every question of that chunk is dropped as unrelated
    assert len(documents) >= chunks - 1 and all(len(chunk.split()) <= 300 for chunk in documents)
    assert len(fsio.read_jsonl(result.output_dir / "test" / f"{leaf.name}.jsonl")) == chunks
    # every chunk of the document, as plain text (no Markdown link targets)
    passages = fsio.read_jsonl(result.output_dir / "passages" / f"{leaf.name}.jsonl")
    assert len(passages) == chunks and not any("wikilink" in p["text"] for p in passages)


def test_a_short_document_asks_each_span_for_more_questions(
    leaves: list[Leaf], teacher: FakeOpenAIServer, tmp_path: Path
) -> None:
    # 2 chunks -> 2 spans; generate.questions_per_leaf 12 -> 12 // 2 = 6 questions per span (not 3)
    config = config_for(teacher.url, tmp_path, questions_per_leaf=12)
    result = generate_data(config, leaves=leaves[:1], chunk_source=chunks_of, show_progress=False)
    asked = [r.get("n") for r in teacher.requests if "quiz question for a given answer" in r["messages"][0]["content"]]
    assert asked == [6, 6]
    counts = result.manifest["counts"]["leaves"]["knowledge_birds"]
    assert counts["rows"] == 10 and counts["heldout"] == 2  # 2 spans x 6, one held out per span
    assert result.manifest["leaves"][0]["questions_per_span"] == 6
