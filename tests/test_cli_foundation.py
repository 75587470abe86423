"""The CLI shell: command tree, config file round trip, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.config import load_config


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_shows_the_whole_command_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for group in ("config", "taxonomy", "data", "model", "system", "run"):
        assert group in out
    code, out, _ = run(["model", "--help"], capsys)
    for command in ("download", "list", "serve", "chat", "train", "evaluate", "convert"):
        assert command in out


def test_config_init_writes_documented_yaml_that_reloads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cfg.yaml"
    code, _, _ = run(["--config", str(target), "config", "init", "--non-interactive"], capsys)
    assert code == 0
    text = target.read_text()
    assert "# Root for everything taxolab makes." in text
    assert load_config(target).serve.port == 8000
    code, _, err = run(["--config", str(target), "config", "init", "--non-interactive"], capsys)
    assert code == 1 and "--force" in err


def test_invalid_config_names_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: 0\n")
    code, _, err = run(["--config", str(bad), "config", "show"], capsys)
    assert code == 1
    assert f"{bad}:2:3: train.epochs" in err
    assert "Traceback" not in err


def test_unknown_key_and_env_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: 2\n  colour: red\n")
    code, _, err = run(["--config", str(bad), "config", "show"], capsys)
    assert code == 1 and ":3:3: train.colour: unknown key" in err
    good = tmp_path / "good.yaml"
    good.write_text("train:\n  epochs: 2\n")
    monkeypatch.setenv("TAXOLAB_TRAIN__EPOCHS", "5")
    assert load_config(good).train.epochs == 5
    monkeypatch.setenv("TAXOLAB_TRAIN__EPOCHS", "many")
    code, _, err = run(["--config", str(good), "config", "show"], capsys)
    assert code == 1 and "TAXOLAB_TRAIN__EPOCHS" in err


def test_config_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "show", "--json"], capsys)
    assert code == 0 and '"learning_rate"' in out


def test_system_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["system", "info", "--json"], capsys)
    assert code == 0
    assert '"torch"' in out and '"accelerator"' in out
