"""bench/bench_knowledge_recall.py: its three leaves, its 60 questions, and `--score-only` on a finished run folder.

No model is trained here: `--score-only` reads a run folder written by the test
(run.json and eval/results.json as `taxolab run` writes them) whose trained and
base models are a tiny random-weight Llama with the default model's real
tokenizer, so the scoring, the intervals and the tables run for real.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "training"))

from training_kit import make_tiny_model  # noqa: E402


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_knowledge_recall", REPO / "bench" / "bench_knowledge_recall.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _seed_questions(leaf: Any) -> list[str]:
    qna = yaml.safe_load((leaf.source / "qna.yaml").read_text())
    return [str(qa["question"]) for example in qna["seed_examples"] for qa in example["questions_and_answers"]]


def test_the_three_leaves_validate_with_the_real_cli(tmp_path: Path, shared_data: Path) -> None:
    taxonomy = bench.make_taxonomy(tmp_path / "taxonomy", list(bench.LEAVES.values()))
    done = subprocess.run(
        [*bench.TAXOLAB, "taxonomy", "diff", "--taxonomy-path", str(taxonomy), "--taxonomy-base", "empty"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 3 files valid (0 warning(s))" in done.stdout
    for name in ("zebu", "lapis_lazuli"):
        assert f"{bench.LEAVES[name].path}/qna.yaml  ok" in done.stdout


@pytest.mark.parametrize("name", ["zebu", "lapis_lazuli"])
def test_new_leaves_are_written_as_a_contributor_would(name: str, tmp_path: Path, shared_data: Path) -> None:
    """v3, five contexts of three Q&A, each context copied from the document at the commit the leaf names."""
    leaf = bench.LEAVES[name]
    qna = yaml.safe_load((leaf.source / "qna.yaml").read_text())
    chickadee = yaml.safe_load((bench.LEAVES["chickadee"].source / "qna.yaml").read_text())
    assert qna["version"] == 3
    assert qna["document"]["repo"] == bench.DOC_REPO == chickadee["document"]["repo"]
    assert [len(example["questions_and_answers"]) for example in qna["seed_examples"]] == [3] * 5
    clone = tmp_path / "docs"
    subprocess.run(["git", "clone", "-q", str(shared_data / "summit_knowledge.bundle"), str(clone)], check=True)
    (pattern,) = qna["document"]["patterns"]
    document = subprocess.run(
        ["git", "-C", str(clone), "show", f"{qna['document']['commit']}:{pattern}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    newest = subprocess.run(
        ["git", "-C", str(clone), "log", "--all", "-1", "--format=%H", "--", pattern],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    newest_text = subprocess.run(
        ["git", "-C", str(clone), "show", f"{newest}:{pattern}"], capture_output=True, text=True, check=True
    ).stdout
    assert document == newest_text, "the leaf must name a commit holding the newest text of its document"
    flat = " ".join(document.split())
    for example in qna["seed_examples"]:
        context = example["context"]
        assert len(context.split()) <= 500
        for paragraph in context.split("\n\n"):
            assert " ".join(paragraph.split()) in flat, paragraph[:80]


def test_question_files_parse_and_no_question_gives_its_answer_away() -> None:
    total = 0
    for leaf in bench.LEAVES.values():
        questions = bench.load_questions(leaf)
        assert len(questions) == 20, leaf.name
        total += len(questions)
        for q in questions:
            assert isinstance(q["question"], str) and q["question"].endswith("?"), q
            assert q["keys"] and all(isinstance(group, list) and group for group in q["keys"]), q
            asked = bench.normalise(q["question"])
            hidden = [g for g in q["keys"] if not any(bench.normalise(str(k)) in asked for k in g)]
            assert hidden, f"{leaf.name}: every key group of {q['question']!r} is in the question itself"
    assert total == 60


@pytest.mark.parametrize("name", ["chickadee", "zebu", "lapis_lazuli"])
def test_no_bench_question_equals_or_nears_a_seed_question(name: str, shared_data: Path) -> None:
    leaf = bench.LEAVES[name]
    seeds = [_words(q) for q in _seed_questions(leaf)]
    assert len(seeds) == 15
    for q in bench.load_questions(leaf):
        asked = _words(q["question"])
        for seed in seeds:
            assert asked != seed
            assert difflib.SequenceMatcher(None, asked, seed).ratio() < 0.9, (asked, seed)


def test_the_scoring_rule() -> None:
    keys = [["boreal"], ["brown cap", "brown crown"]]
    assert bench.is_right("The Boreal chickadee has a  brown\ncap.", keys)
    assert not bench.is_right("The boreal chickadee is grey.", keys)
    assert bench.is_right("at least 4\u20135 years", [["4-5"]])


def _fake_run(run_dir: Path, model: Path) -> Path:
    """A finished three-leaf run folder as `taxolab run` leaves it (the files the bench reads)."""
    groups = [leaf.group for leaf in bench.LEAVES.values()]
    steps: dict[str, Any] = {
        "taxonomy": {"outputs": {"leaves": [{"name": g, "kind": "knowledge"} for g in groups]}, "seconds": 0.0},
        **{
            f"generate:{g}": {"outputs": {"throughput": {"amount": 14757.0, "unit": "tokens", "seconds": 578.7, "per_second": 25.5}}, "seconds": 578.7}
            for g in groups
        },
        "mix": {"outputs": {}, "seconds": 0.5},
        "train": {"outputs": {"throughput": {"amount": 110682.0, "unit": "tokens", "seconds": 1335.6, "per_second": 82.9}}, "seconds": 1335.6},
    }  # fmt: skip
    config = {"mix": {"system_prompt": "You are a helpful assistant. Answer accurately and concisely."}}
    (run_dir / "eval").mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"kind": "run", "info": {"config": config}, "steps": steps}))
    recall = {
        "trained": {"overall": 0.3, "groups": dict.fromkeys(groups, 0.3)},
        "base": {"overall": 0.05, "groups": dict.fromkeys(groups, 0.05)},
    }
    (run_dir / "eval" / "results.json").write_text(json.dumps({"model": str(model), "results": {"recall": recall}}))
    return run_dir


@pytest.fixture(scope="module")
def tiny_model(default_hf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = tmp_path_factory.mktemp("tokenizer")
    for item in default_hf_model.iterdir():
        if item.name.startswith(("tokenizer", "special_tokens", "chat_template", "vocab", "merges")):
            (tokenizer / item.name).write_bytes(item.read_bytes())
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", tokenizer)


@pytest.mark.slow
def test_score_only_on_a_finished_run(
    tmp_path: Path, tiny_model: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _fake_run(tmp_path / "run", tiny_model)
    argv = ["--score-only", str(run), "--base-model", str(tiny_model), "--work-dir", str(tmp_path / "work")]
    bench.main([*argv, "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["leaves"] == ["chickadee", "zebu", "lapis_lazuli"]
    scores = result["scores"]
    assert [scores[name]["n"] for name in ("chickadee", "zebu", "lapis_lazuli", "total")] == [20, 20, 20, 60]
    total = scores["total"]
    # The same random model on both sides: no difference, so McNemar has no discordant pair.
    assert total["base"]["right"] == total["trained"]["right"] and total["p_value"] == 1.0
    low, high = total["trained"]["interval"]
    assert 0.0 <= low <= total["trained"]["rate"] <= high <= 1.0
    assert result["product_recall"]["zebu"] == {"base": 0.05, "trained": 0.3}
    assert [s["stage"] for s in result["stages"]][:2] == ["taxonomy", f"generate:{bench.LEAVES['chickadee'].group}"]
    assert len(result["answers"]["trained"]["lapis_lazuli"]) == 20

    bench.print_scores(scores, result["product_recall"])
    bench.print_stages(result["stages"])
    out = capsys.readouterr().out
    assert re.search(r"^zebu\s+\d+/20\s+\d+% \[", out, re.M), out
    assert re.search(r"^total\s+\d+/60 .* p=1\.000\s+5% ->  30%", out, re.M), out
    assert re.search(r"^train\s+22\.3\s+110682 tokens at 82\.9/s", out, re.M), out


def test_ablation_rows_follow_the_runs_form_kinds(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"info": {"config": {"mix": {}}}, "steps": {}}))
    assert bench.form_kinds(run) is None  # before mix.forms exists: the rows are skipped, and said so
    kinds = ["questions", "restated", "fill_in", "reverse", "permuted_passages"]
    (run / "run.json").write_text(json.dumps({"info": {"config": {"mix": {"forms": kinds}}}, "steps": {}}))
    variants = bench.form_variants(bench.form_kinds(run))
    assert variants["without fill_in"] == ["questions", "restated", "reverse", "permuted_passages"]
    assert variants["fewer forms (questions only)"] == ["questions"]
    assert len(variants) == 6


def test_old_question_check_adds_back_only_the_new_reasons(tmp_path: Path) -> None:
    dropped = tmp_path / "run" / "data" / "leaves" / "leaf" / "abc" / "dropped"
    dropped.mkdir(parents=True)
    rows = [
        {"reason": "check_questions: unrelated", "row": {"question": "Old?", "answer": "a"}},
        {"reason": "check_questions: focus_missing", "row": {"question": "New?", "answer": "b"}},
        {"reason": "generate_mcq: unparseable teacher output", "row": {"question": "Mcq?", "answer": "c"}},
    ]
    (dropped / "check.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    old = bench.add_back(tmp_path / "run", "old question check", "sys")
    assert [s["messages"][1]["content"] for s in old] == ["New?"]
    every = bench.add_back(tmp_path / "run", "without question checks", "sys")
    assert [s["messages"][1]["content"] for s in every] == ["Old?", "New?"]


def test_a_lever_row_gives_the_paired_change(capsys: pytest.CaptureFixture[str]) -> None:
    args = bench.parse_args(["--from-run", "r", "--lever", "mix.fill_in_answer=item", "--lever", "mix.seed=7"])
    assert args.lever == ["mix.fill_in_answer=item", "mix.seed=7"] and not args.ablation
    rows = [
        {"variant": "cpu-small as shipped", "right": 9, "seconds": 600, "how": "taxolab run"},
        {"variant": "with mix.fill_in_answer=item", "right": 11, "seconds": 540, "how": "taxolab run --set ...",
         "gained": 4, "lost": 2, "recall": 0.5},
    ]  # fmt: skip
    bench.print_ablations(rows, 20)
    out = capsys.readouterr().out
    assert re.search(
        r"^with mix.fill_in_answer=item\s+11/20\s+\+2\s+9\.0 .*\(\+4 -2 questions; own recall 50%\)", out, re.M
    )


def test_ablations_make_a_gone_taxonomy_once_and_reuse_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"info": {"config": {}}, "steps": {}}))  # no taxonomy recorded
    leaves = [bench.LEAVES["zebu"]]
    first = bench.ablation_taxonomy(run, tmp_path, leaves)
    assert (first / bench.LEAVES["zebu"].path / "qna.yaml").is_file()
    assert bench.ablation_taxonomy(run, tmp_path, leaves) == first  # a second lever or form ablation reuses it
