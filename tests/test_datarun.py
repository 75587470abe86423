"""The data-run layout lives in taxolab.datarun alone, and mixing records which questions each sample trains."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import taxolab
from taxolab import datarun, fsio
from taxolab.cli.main import main
from taxolab.datarun import DataRun, run_folder, training_files
from taxolab.evaluation.datarun import TrainingQuestions
from taxolab.mixing import MixOptions, build_training_sets
from taxolab.mixing.training_sets import LeafSource
from taxolab.sdg.spans import document_spans, strip_markdown
from taxolab.taxonomy.model import Leaf, LeafKind

SRC = Path(taxolab.__file__).resolve().parent
NAMES = {"generated", "heldout", "test", "passages", "dropped", "messages", "forms", "recipes", "dev"}
LEAF = "knowledge_animals_chickadee"
DOCUMENT = """# Black-capped chickadee

The black-capped chickadee (Poecile atricapillus) is a small songbird of North America. It is a member of the
Paridae family, also known as tits. The black-capped chickadee feeds primarily on insects and seeds in winter.

Black-capped chickadees build nests in tree cavities from late April until late June. They lay on average 6–8 eggs,
which hatch after 11–14 days.
"""
HELD = "How many eggs does a chickadee lay on average?"


def _layout_spellings(path: Path, root: Path = SRC) -> list[str]:
    """``file:line: what`` for each place ``path`` spells a data-run folder or mix name in code (not prose)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            prose.add(id(body[0].value))
        if isinstance(node, ast.keyword) and node.arg in ("help", "description"):
            prose.update(id(sub) for sub in ast.walk(node.value))
    found = []

    def named(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value in NAMES

    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        text = node.value if isinstance(node, ast.Constant) and id(node) not in prose else None
        if isinstance(text, str) and datarun.MIX_MARK.strip("_") in text:
            found.append(f"{where}: mix name {text!r}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and (named(node.left) or named(node.right)):
            found.append(f"{where}: path joined with a data-run folder name")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("glob", "rglob"):
            texts = [sub.value for arg in node.args for sub in ast.walk(arg) if isinstance(sub, ast.Constant)]
            if any(part in NAMES for text in texts if isinstance(text, str) for part in text.split("/")):
                found.append(f"{where}: glob of a data-run folder")
        if isinstance(node, ast.Compare) and _name_of(node.left) and any(map(named, node.comparators)):
            found.append(f"{where}: a path's name compared with a data-run folder name")
    return found


def _name_of(node: ast.AST) -> bool:
    """Whether ``node`` is ``<something>.name`` (a path's name)."""
    return isinstance(node, ast.Attribute) and node.attr == "name"


def test_no_module_but_taxolab_datarun_spells_the_data_run_layout() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50
    found = [hit for file in files if file != SRC / "datarun.py" for hit in _layout_spellings(file)]
    assert found == [], "use taxolab.datarun for these:\n" + "\n".join(found)


def test_the_guard_sees_a_spelled_folder(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text(
        '"""Docs may say heldout/ and k_train_msgs_x.jsonl."""\n\nX = Path("a") / "heldout"\nY = "k_train_msgs_x"\n'
    )
    assert [hit.split(": ", 1)[1] for hit in _layout_spellings(bad, tmp_path)] == [
        "path joined with a data-run folder name",
        "mix name 'k_train_msgs_x'",
    ]


def test_a_tasks_dir_value_names_its_run(tmp_path: Path) -> None:
    run = tmp_path / "datasets" / "run1"
    fsio.write_jsonl(DataRun(run).leaf_file(datarun.TEST, LEAF), [{"question": "q"}])
    fsio.write_jsonl(DataRun(run).dev_file(datarun.TEST, LEAF), [{"question": "d"}])
    fsio.write_jsonl(DataRun(run).mix_file(datarun.KNOWLEDGE_MIX, "r"), [])
    fsio.write_jsonl(DataRun(run).leaf_file(datarun.MESSAGES, LEAF), [])
    for given in (run, run / "test", run / "test" / f"{LEAF}.jsonl", run / "messages"):
        assert run_folder(given) == run
    assert run_folder(run / "dev" / "test") == run / "dev"
    expected = [run / "knowledge_train_msgs_r.jsonl", run / "messages" / f"{LEAF}.jsonl"]
    assert training_files(run) == expected
    assert training_files(run / "dev") == expected  # a dev split trained with its run's files
    assert DataRun(run).dev_files(datarun.TEST) == [run / "dev" / "test" / f"{LEAF}.jsonl"]
    older = tmp_path / "datasets" / "run0"
    fsio.write_jsonl(DataRun(older).leaf_file(datarun.TEST, LEAF), [])
    os.utime(older / "test", (1, 1))
    newest = DataRun.newest(tmp_path / "datasets", datarun.TEST)
    assert newest is not None and newest.folder == run
    assert DataRun.newest(tmp_path / "datasets", datarun.HELDOUT) is None


def _leaf(tmp_path: Path) -> tuple[Leaf, Path]:
    """A one-chunk knowledge leaf as generation leaves it, with one held-out pair."""
    qna = tmp_path / "taxonomy" / "knowledge" / "animals" / "chickadee" / "qna.yaml"
    qna.parent.mkdir(parents=True)
    qna.write_text("version: 3\n", encoding="utf-8")
    leaf = Leaf(qna, tmp_path / "taxonomy", LeafKind.KNOWLEDGE, 3, "me", [], domain="animals")
    run = DataRun(tmp_path / "generation")
    spans = document_spans(DOCUMENT)
    rows = [
        {"leaf": LEAF, "chunk_index": 0, "document": DOCUMENT, "span": span, "answer": span, "span_id": f"0:{i}",
         "dataset_type": "answer_first", "question": f"What does the document say about point {i}?"}
        for i, span in enumerate(spans)
    ]  # fmt: skip
    fsio.write_jsonl(run.leaf_file(datarun.GENERATED, LEAF), rows)
    fsio.write_jsonl(
        run.leaf_file(datarun.PASSAGES, LEAF), [{"text": strip_markdown(DOCUMENT), "leaf": LEAF, "index": 0}]
    )
    fsio.write_jsonl(run.leaf_file(datarun.HELDOUT, LEAF), [{"question": HELD, "answer": spans[4], "leaf": LEAF}])
    return leaf, run.folder


def test_every_training_sample_records_the_questions_it_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf, folder = _leaf(tmp_path)
    out = tmp_path / "mix"
    options = MixOptions(seed=3, distractor_ratio=0.5, knowledge_replay=1.0, context_ratio=0.5, system_prompt="sys")
    build_training_sets([LeafSource(leaf, folder)], out, "r", options)
    files = training_files(out)
    # a knowledge-only taxonomy has no skills mix: it would be nothing but replay (knowledge_replay 1.0 here)
    assert [f.name for f in files] == ["knowledge_train_msgs_r.jsonl", f"{LEAF}.jsonl"]
    assert (out / "recipes" / "skills.yaml").is_file() and not (out / "skills_train_msgs_r.jsonl").exists()
    generated = [row["question"] for row in fsio.read_jsonl(DataRun(folder).leaf_file(datarun.GENERATED, LEAF))]
    kinds: dict[str, list[list[str]]] = {}
    for file in files:
        for row in fsio.read_jsonl(file):
            assert isinstance(row[datarun.QUESTIONS_KEY], list), file
            kinds.setdefault(row["metadata"]["sample_type"], []).append(row[datarun.QUESTIONS_KEY])
    assert {"closed_book", "passage"} <= set(kinds) and {"context", "context_with_distractor"} & set(kinds)
    assert all(questions == [] for questions in kinds["passage"])
    for style in ("closed_book", "context", "context_with_distractor"):
        assert all(len(questions) == 1 and questions[0] in generated for questions in kinds.get(style, []))
    seen = TrainingQuestions.of_run(out)
    assert all(question in seen for question in generated)
    assert HELD not in seen
    # `data show` prints the record under the sample's messages
    closed = next(r for r in fsio.read_jsonl(files[-1]) if r["metadata"]["sample_type"] == "closed_book")
    assert main(["data", "show", str(files[-1]), "-n", "200"]) == 0
    assert f"trains: {closed[datarun.QUESTIONS_KEY][0]}" in capsys.readouterr().out
