"""Keys that moved section keep working: read under the new name, with one notice line per source (issue 18).

Users' config files (`config init` writes every key), environment variables and scripts' `--set`
flags still name `generate.context_ratio`, `run.seed_examples`, `models.system_prompt`, ...
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.config import load_config
from taxolab.config.moved import MOVED
from taxolab.errors import LocatedError, TaxolabError
from taxolab.workflow.profiles import load_run_config, resolve_profile

OLD = "generate:\n  seed: 3\n  context_ratio: 0.9\nrun:\n  seed_examples: false\nmodels:\n  system_prompt: Be brief.\n"


def test_an_old_config_file_is_read_under_the_new_names_with_one_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(OLD)
    config = load_config(cfg)
    assert (config.mix.context_ratio, config.mix.seed_examples, config.mix.system_prompt) == (0.9, False, "Be brief.")
    assert config.generate.seed == 3
    (notice,) = capsys.readouterr().err.strip().splitlines()
    assert notice.startswith(f"{cfg}: moved keys read under their new names: ")
    for old, line in [("generate.context_ratio", 3), ("run.seed_examples", 5), ("models.system_prompt", 7)]:
        assert f"{old} (line {line}) -> {MOVED[old]}" in notice


def test_a_bad_value_under_an_old_name_points_at_the_line_written(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("generate:\n  context_ratio: 2\n")
    with pytest.raises(LocatedError) as caught:
        load_config(cfg)
    assert str(caught.value).startswith(f"{cfg}:2:3: mix.context_ratio: Input should be less than or equal to 1")
    assert "(written as generate.context_ratio)" in str(caught.value)


def test_old_names_in_the_environment_and_in_flags_beat_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_config(None, environ={"TAXOLAB_GENERATE__KNOWLEDGE_REPLAY": "0.7"}).mix.knowledge_replay == 0.7
    assert "environment: moved keys" in capsys.readouterr().err
    # cpu-small sets mix.context_ratio=0; the user's --set with the old name comes after it and wins
    config = load_run_config(None, resolve_profile("cpu-small"), {"generate": {"context_ratio": 0.8}})
    assert config.mix.context_ratio == 0.8
    assert "generate.context_ratio -> mix.context_ratio" in capsys.readouterr().err


def test_old_and_new_name_with_different_values_is_an_error_naming_both(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("generate:\n  context_ratio: 0.9\nmix:\n  context_ratio: 0.1\n")
    with pytest.raises(TaxolabError, match=r"generate\.context_ratio \(line 2\) and mix\.context_ratio are both set"):
        load_config(cfg)
    cfg.write_text("generate:\n  context_ratio: 0.1\nmix:\n  context_ratio: 0.1\n")
    assert load_config(cfg).mix.context_ratio == 0.1


def test_data_generate_and_run_take_the_seed_examples_flag_of_mix(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["data", "generate"], ["run"]):
        assert main([*command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "--seed-examples / --no-seed-examples" in text and "[config: mix.seed_examples]" in text
