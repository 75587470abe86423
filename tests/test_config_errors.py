"""Config errors: every problem with its line, hints that work, and `config edit` on a broken file.

Issue 12, case 11 (instructlab/instructlab#3260, PR #437): an invalid value must not lock the user
out of `config edit`; keys left over from an older version must all be named, with lines, in one
run (no "and 1 more problem"); no hint may send the user to a command that fails the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.config import load_config
from taxolab.config.loader import ConfigError
from taxolab.errors import LocatedError

BAD_VALUE = "train:\n  method: qlora\n  epochs: 2\n"
OLD_KEYS = "list:\n  some: thing\ngenerate:\n  num_instructions: 100\ntrain:\n  epochs: 2\n"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_value_names_line_key_allowed_values_and_a_hint_that_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "bad_value.yaml"
    cfg.write_text(BAD_VALUE)
    code, _, err = run(["--config", str(cfg), "config", "show"], capsys)
    assert code == 1 and "Traceback" not in err
    assert f"{cfg}:2:3: train.method: Input should be 'full' or 'lora'" in err
    assert f"fix with `taxolab --config {cfg} config edit`" in err and "config show" not in err
    assert run(["--config", str(cfg), "model", "train", "--help"], capsys)[0] == 0


def test_config_edit_opens_the_editor_on_an_invalid_file_and_revalidates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "bad_value.yaml"
    cfg.write_text(BAD_VALUE)
    opened = tmp_path / "opened"
    monkeypatch.delenv("VISUAL", raising=False)
    # an editor that only records that it ran: the file stays invalid
    recorder = tmp_path / "record.py"
    recorder.write_text(f"import sys\nopen({str(opened)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {recorder}")
    code, _, err = run(["--config", str(cfg), "config", "edit"], capsys)
    assert opened.read_text() == f"{cfg}\n"
    assert code == 1 and f"{cfg}:2:3: train.method" in err
    # an editor that fixes the value
    fixer = tmp_path / "fix.py"
    fixer.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\np.write_text(p.read_text().replace('qlora', 'lora'))\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {fixer}")
    code, _, err = run(["--config", str(cfg), "config", "edit"], capsys)
    assert code == 0 and f"{cfg} is valid" in err
    assert "method: lora" in cfg.read_text()
    assert run(["--config", str(cfg), "config", "show"], capsys)[0] == 0


def test_every_removed_key_is_named_with_its_line_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "old_keys.yaml"
    cfg.write_text(OLD_KEYS)
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    assert len(caught.value.problems) == 2
    code, _, err = run(["--config", str(cfg), "config", "show"], capsys)
    assert code == 1 and "more problem" not in err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0] == f"error: 2 config problems; fix with `taxolab --config {cfg} config edit`:"
    assert lines[1].startswith(f"{cfg}:1:1: list: unknown section, not a setting of this taxolab version; remove it")
    assert lines[2].startswith(f"{cfg}:4:3: generate.num_instructions: unknown key, not a setting of this")
    assert "keys of generate: " in lines[2] and "sdg_scale_factor" in lines[2]
    assert "config show" not in err


def test_unknown_key_hint_suggests_only_a_close_match(tmp_path: Path) -> None:
    cfg = tmp_path / "typo.yaml"
    cfg.write_text("train:\n  epoch: 2\n")
    with pytest.raises(LocatedError) as caught:
        load_config(cfg)
    assert str(caught.value).startswith(f"{cfg}:2:3: train.epoch: unknown key; did you mean 'epochs'?")
    cfg.write_text("list:\n  a: 1\n")  # 'list' is 60% like 'client': no suggestion that does not fit
    with pytest.raises(LocatedError) as caught:
        load_config(cfg)
    assert "did you mean" not in str(caught.value)


def test_problems_from_file_environment_and_flags_are_all_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "mixed.yaml"
    cfg.write_text("train:\n  method: qlora\n")
    monkeypatch.setenv("TAXOLAB_TRAIN__EPOCHS", "many")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    problems = caught.value.problems
    assert problems[0].startswith(f"{cfg}:2:3: train.method")
    assert problems[1].startswith("environment TAXOLAB_TRAIN__EPOCHS: train.epochs")


def test_hints_for_a_missing_config_name_the_same_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.yaml"
    for command in (["config", "show"], ["config", "edit"]):
        code, _, err = run(["--config", str(missing), *command], capsys)
        assert code == 1 and f"create it with `taxolab --config {missing} config init`" in err
    # and that hint works: it writes the file the other commands read
    assert run(["--config", str(missing), "config", "init", "--non-interactive"], capsys)[0] == 0
    assert run(["--config", str(missing), "config", "show"], capsys)[0] == 0
