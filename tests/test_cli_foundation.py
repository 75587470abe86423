"""The CLI shell: command tree, config file round trip, one-line errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from taxolab.cli.main import cli, main
from taxolab.config import load_config


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# Every command a user can reach, with the options its help must keep offering (more may come).
EXPECTED_TREE: dict[str, list[str]] = {
    "config init": ["--non-interactive", "--force", "--taxonomy-path", "--data-dir"],
    "config show": ["--json"],
    "config edit": [],
    "taxonomy diff": ["--taxonomy-path", "--taxonomy-base", "--json", "--quiet", "--strict"],
    "taxonomy lint": ["--json", "--quiet", "--strict"],
    "taxonomy sample": ["--json"],
    "data generate": ["--taxonomy-path", "--taxonomy-base", "--endpoint-url", "--output-dir", "--resume",
                      "--pipeline", "--sdg-scale-factor", "--teacher-model", "--concurrency", "--seed", "--json"],
    "data list": ["--datasets-dir", "--runs-dir", "--json"],
    "data show": ["-n", "--json"],
    "data mix": ["--json"],
    "model download": ["--revision", "--filename", "--model-dir", "--json"],
    "model list": ["--model-dir", "--json"],
    "model serve": ["--model-path", "--backend", "--host", "--port", "--max-ctx-size", "--parallel", "--threads",
                    "--gpu-layers", "--chat-template"],
    "model chat": ["--model-path", "--endpoint-url", "-q", "--system", "--max-tokens", "--temperature", "--json"],
    "model train": ["--data-path", "--model-path", "--output-dir", "--strategy", "--method", "--epochs",
                    "--learning-rate", "--effective-batch-size", "--max-batch-len", "--nproc-per-node", "--json"],
    "model evaluate": ["--benchmark", "--model", "--base-model", "--judge-model", "--output-dir", "--tasks-dir",
                       "--json"],
    "model convert": ["--model-path", "--outtype", "--output", "--json"],
    "model prepare-default": ["--quiet", "--json"],
    "system info": ["--json"],
    "run": ["--taxonomy-path", "--taxonomy-base", "--teacher", "--student", "--judge", "--profile", "--output-dir",
            "--plan", "--stop-after", "--json"],
}  # fmt: skip


def command_tree(command: click.Command = cli, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    """Every visible command and group below ``command``, by its space-separated path."""
    found: dict[str, click.Command] = {" ".join(path): command} if path else {}
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            if not sub.hidden:
                found.update(command_tree(sub, (*path, name)))
    return found


def section(text: str, title: str) -> list[str]:
    """The lines under ``Options:``/``Commands:`` of a help page, up to the next blank-line-separated title."""
    lines = text.splitlines()
    if f"{title}:" not in lines:
        return []
    start = lines.index(f"{title}:") + 1
    out = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break
        out.append(line)
    return out


def help_problems(path: str, capsys: pytest.CaptureFixture[str], expected: list[str] | None = None) -> list[str]:
    """What is wrong with ``taxolab PATH --help``: exit status, usage, description, options, subcommands."""
    code, out, err = run([*path.split(), "--help"], capsys)
    problems = [] if code == 0 else [f"exit {code}: {err.strip()}"]
    if f"Usage: taxolab {path} " not in out:
        problems.append("no usage line")
    command = command_tree()[path]
    description = (command.help or "").strip().splitlines()
    if not description or not description[0].strip():
        problems.append("no description")
    elif " ".join(description[0].split()[:4]) not in " ".join(out.split()):
        problems.append("description not shown")
    shown = {token.strip(",") for line in section(out, "Options") for token in line.split() if token.startswith("-")}
    declared = {opt for param in command.params if isinstance(param, click.Option) and not param.hidden
                for opt in (*param.opts, *param.secondary_opts)}  # fmt: skip
    problems += [f"option {opt} not in help" for opt in sorted(declared - shown)]
    problems += [f"option {opt} missing" for opt in expected or [] if opt not in shown]
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    problems += [f"option {p.opts[0]} has no help text" for p in options if not (p.help or "").strip()]
    if isinstance(command, click.Group):
        listed = {line.split()[0] for line in section(out, "Commands") if line.strip()}
        visible = {name for name, sub in command.commands.items() if not sub.hidden}
        problems += [f"subcommand {name} not listed" for name in sorted(visible - listed)]
    return problems


def test_the_command_tree_has_every_expected_command() -> None:
    tree = command_tree()
    missing = [path for path in EXPECTED_TREE if path not in tree]
    assert missing == []
    groups = {path for path, command in tree.items() if isinstance(command, click.Group)}
    assert groups == {"config", "taxonomy", "data", "model", "system"}


@pytest.mark.parametrize("path", sorted(command_tree()))
def test_every_command_has_help_with_its_options(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert help_problems(path, capsys, EXPECTED_TREE.get(path)) == []


def test_top_level_help_lists_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert {line.split()[0] for line in section(out, "Commands") if line.strip()} >= {
        "config", "taxonomy", "data", "model", "system", "run",
    }  # fmt: skip


def test_the_help_check_fails_when_help_or_an_option_is_lost(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks above can fail: remove a description, an option or a subcommand and they report it."""
    train = command_tree()["model train"]
    monkeypatch.setattr(train, "help", None)
    assert "no description" in help_problems("model train", capsys)
    monkeypatch.setattr(train, "params", [p for p in train.params if p.name != "train__epochs"])
    assert "option --epochs missing" in help_problems("model train", capsys, EXPECTED_TREE["model train"])
    serve = command_tree()["model serve"]
    monkeypatch.setattr(serve.params[0], "help", "")
    assert "option --model-path has no help text" in help_problems("model serve", capsys)
    model = command_tree()["model"]
    assert isinstance(model, click.Group)
    monkeypatch.setattr(model, "list_commands", lambda ctx: [n for n in model.commands if n != "chat"])
    assert "subcommand chat not listed" in help_problems("model", capsys)


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
