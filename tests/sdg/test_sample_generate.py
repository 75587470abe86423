"""`data generate` on the packaged sample (`taxolab taxonomy sample`): no mirror, no network, progress in a log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.taxonomy.sample import write_sample
from taxolab.testing.fake_openai import FakeOpenAIServer


def test_generate_on_the_packaged_sample_logs_progress_lines(
    teacher: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAXOLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TAXOLAB_PROGRESS_INTERVAL", "0.05")
    taxonomy = write_sample(tmp_path / "sample").taxonomy
    args = ["data", "generate", "--taxonomy-path", str(taxonomy), "--endpoint-url", teacher.url]
    code = main([*args, "--sdg-scale-factor", "1", "--output-dir", str(tmp_path / "run"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    counts = json.loads(out)["counts"]["leaves"]
    assert set(counts) == {
        "compositional_skills_linguistics_synonyms",
        "knowledge_science_animals_birds_black_capped_chickadee",
    }
    # stderr is not a terminal here: each generation job leaves plain progress lines, the last one complete
    lines = [line for line in err.splitlines() if re.search(r": \d+/\d+ seeds \(\d+%\), [\d.]+/s, ", line)]
    assert any(line.startswith("compositional_skills_linguistics_synonyms/") for line in lines), err
    assert any("(100%)" in line and "done in" in line for line in lines), err
