"""Documents with tables and with long text without spaces, through `generate_data` (issue 19, cases 17, 18).

Real parts: a git repo of documents, the documents package fetching and chunking it, the
scripted fake teacher over HTTP (a remote teacher, so chunks are sized by the estimate).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from taxolab import fsio
from taxolab.sdg.chunks import ChunkPlan, estimated_tokens
from taxolab.sdg.generate import generate_data
from taxolab.taxonomy.model import DocumentRef, Leaf, LeafKind
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.testing.git import run_git

from .conftest import config_for, make_leaf

TABLES = """# Examplia

Examplia is a small harbor town with three stone bridges over the Lenn river.

## Ferry

A ferry links Examplia to the island of Norr twice a day. The timetable is:
| Departs | From | To | Arrives |
|---------|------|----|---------|
| 07:15 | Examplia | Norr | 07:55 |
| 17:40 | Norr | Examplia | 18:20 |"""


def leaf_with_document(tmp_path: Path, name: str, text: str) -> Leaf:
    repo = tmp_path / "docs-repo"
    repo.mkdir()
    (repo / name).write_text(text, encoding="utf-8")
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "docs")
    commit = run_git(repo, "rev-parse", "HEAD").strip()
    leaf = make_leaf(tmp_path, LeafKind.KNOWLEDGE, "examplia")
    return dataclasses.replace(
        leaf, document=DocumentRef(str(repo), commit, (name,)), document_outline="A harbor town and its ferry"
    )


def prompts(teacher: FakeOpenAIServer) -> list[str]:
    return ["\n".join(str(m.get("content", "")) for m in request["messages"]) for request in teacher.requests]


def test_a_document_with_a_table_yields_rows_from_the_table(teacher: FakeOpenAIServer, tmp_path: Path) -> None:
    leaf = leaf_with_document(tmp_path, "README.md", TABLES)
    result = generate_data(config_for(teacher.url, tmp_path), leaves=[leaf], show_progress=False)
    rows = fsio.read_jsonl(result.output_dir / "generated" / f"{leaf.name}.jsonl")
    heldout = fsio.read_jsonl(result.output_dir / "heldout" / f"{leaf.name}.jsonl")
    answers = {row["answer"] for row in rows} | {row["answer"] for row in heldout}
    # answer-first rows whose answers are the table's rows, with the names of their columns
    assert "Ferry — Departs: 07:15; From: Examplia; To: Norr; Arrives: 07:55." in answers
    assert "Ferry — Departs: 17:40; From: Norr; To: Examplia; Arrives: 18:20." in answers
    (passage,) = fsio.read_jsonl(result.output_dir / "passages" / f"{leaf.name}.jsonl")
    assert "Departs: 17:40; From: Norr; To: Examplia; Arrives: 18:20." in passage["text"]
    # the teacher reads the table as Markdown, header and rows together
    assert any(
        "| Departs | From | To | Arrives |" in p and "| 17:40 | Norr | Examplia | 18:20 |" in p
        for p in prompts(teacher)
    )


def test_a_50_kb_document_without_spaces_is_sent_in_chunks_within_the_budget(
    teacher: FakeOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = "iVBORw0KGgo" + "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(340))
    japanese = "".join(
        f"第{i}項：エグザンプリアの灯台は一八九〇年に建てられ、灯りは十八海里先まで見えます。" for i in range(200)
    )
    serial = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(60))  # 3,840 characters, no seam
    text = (
        f"{TABLES}\n\n## Map\n\n![Map of the harbor](data:image/png;base64,{picture})\n\n"
        f"## 日本語\n\n{japanese}\n\n## Serial\n\n{serial}\n"
    )
    assert len(text.encode()) > 50_000
    leaf = leaf_with_document(tmp_path, "examplia_long.md", text)
    config = config_for(teacher.url, tmp_path, chunk_word_count=200, chunk_overlap=20, sdg_scale_factor=1)
    result = generate_data(config, leaves=[leaf], show_progress=False)

    plan = ChunkPlan.fit(200, 20, None, config.generate.max_num_tokens)
    chunks = {row["document"] for row in fsio.read_jsonl(result.output_dir / "generated" / f"{leaf.name}.jsonl")}
    assert result.manifest["leaves"][0]["chunks"] > 50
    sent = prompts(teacher)
    assert not any("base64" in p or "iVBORw0KGgo" in p for p in sent)  # the picture carries no text
    assert sum("エグザンプリア" in p for p in sent) > 20  # the Japanese section reaches the teacher, in pieces
    longest_run = max(len(word) for p in sent for word in p.split())
    assert longest_run <= plan.max_tokens * 1.1 < 1_500  # no unbroken span beyond the chunk budget
    assert chunks and all(estimated_tokens(chunk) <= plan.max_tokens for chunk in chunks)
    notes = capsys.readouterr().err
    assert "examplia_long.md: left out 1 embedded picture(s) given as data: URIs" in notes
    assert "examplia_long.md: text without spaces or sentence ends (up to 3,840 characters" in notes


def test_japanese_text_gives_answer_spans_and_its_questions_pass_the_checks() -> None:
    import asyncio

    from taxolab.sdg.blocks import BlockContext, build_block
    from taxolab.sdg.blocks.build import BuildEnv
    from taxolab.sdg.grounding import check_grounding
    from taxolab.sdg.spans import document_spans, word_count
    from taxolab.text import normalize

    text = "".join(
        f"第{i}項：灯台は一八九〇年に北の防波堤に建てられ、灯りは十八海里先まで見えます。" for i in range(1, 4)
    )
    spans = document_spans(f"## 灯台\n\n{text}\n")
    assert len(spans) == 3 and all(span.endswith("見えます。") for span in spans)  # cut at 。, none dropped
    assert word_count(spans[0]) > 8 and normalize(spans[0]) != ""
    assert check_grounding("灯台は一八九〇年に建てられた。", text).grounded
    assert not check_grounding("灯台は東京の港にある。", text).grounded
    check = build_block({"block": "question_check", "name": "check", "topic": "document_outline"}, BuildEnv(Path()))
    rows = [
        {"question": "灯台はいつ北の防波堤に建てられましたか？", "answer": spans[0], "document_outline": "町"},
        {"question": "東京の人口は何人ですか？", "answer": spans[0], "document_outline": "町"},
    ]
    out = asyncio.run(check.run(rows, BlockContext(None, "seed")))
    assert out.rows == rows[:1] and out.dropped == {"check: unrelated": 1}
