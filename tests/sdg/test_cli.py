"""`taxolab data generate|list|show|mix` through the real CLI, against the fake teacher."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.testing.fake_openai import FakeOpenAIServer


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def taxonomy(tmp_path: Path, shared_data: Path) -> Path:
    """A one-leaf taxonomy: the synonyms freeform skill from the sample taxonomy."""
    leaf = tmp_path / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms"
    leaf.mkdir(parents=True)
    shutil.copy(shared_data / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms" / "qna.yaml", leaf)
    return tmp_path / "taxonomy"


def test_generate_list_show_mix(
    taxonomy: Path, teacher: FakeOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run1"
    args = ["data", "generate", "--taxonomy-path", str(taxonomy), "--taxonomy-base", "empty"]
    args += ["--endpoint-url", teacher.url, "--sdg-scale-factor", "1", "--output-dir", str(out_dir), "--json"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    manifest = json.loads(out)
    assert manifest["counts"]["leaves"]["compositional_skills_linguistics_synonyms"]["rows"] == 6
    assert manifest["leaves"][0]["kind"] == "freeform_skill"

    code, out, err = run(["data", "list", "--datasets-dir", str(tmp_path), "--json"], capsys)
    assert code == 0, err
    (listed,) = json.loads(out)
    # the same mix as `taxolab run`: generated rows plus the leaf's seed examples
    seeds = manifest["counts"]["leaves"]["compositional_skills_linguistics_synonyms"]["mixed"]["seed_examples"]
    assert seeds > 0
    assert listed["rows"] == 6 and listed["status"] == "complete" and listed["skills_samples"] == 6 + seeds

    mix_file = out_dir / f"skills_train_msgs_{out_dir.name}.jsonl"
    code, out, _ = run(["data", "show", str(mix_file), "-n", "2"], capsys)
    assert code == 0 and out.count("assistant:") == 2

    recipe = out_dir / "recipes" / "skills.yaml"
    recipe.write_text(recipe.read_text().replace("sampling_size: 1.0", "sampling_size: 3"), encoding="utf-8")
    code, out, _ = run(["data", "mix", str(recipe), "--json"], capsys)
    assert code == 0 and json.loads(out)["rows"] == 3
    assert len(mix_file.read_text().splitlines()) == 3


def test_user_errors_are_one_line(taxonomy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["data", "show", str(tmp_path / "missing.jsonl")], capsys)
    assert code == 1 and "file not found" in err and "Traceback" not in err
    bad = tmp_path / "pipes"
    bad.mkdir()
    code, _, err = run(
        [
            "data",
            "generate",
            "--taxonomy-path",
            str(taxonomy),
            "--taxonomy-base",
            "empty",
            "--pipeline",
            str(bad),
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        capsys,
    )
    assert code == 1 and "lacks knowledge.yaml" in err
