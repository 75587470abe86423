"""``ilab`` flag names work as aliases: shown in --help, parsed to the same value as the taxolab flag."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from taxolab.cli.context import overrides_from_flags
from taxolab.cli.main import cli, main
from taxolab.cli.options import ILAB_ALIASES, add_ilab_aliases
from taxolab.config import load_config

# The list issue 13 names, per command: every one must be accepted.
REQUIRED = {
    "model evaluate": ["--input-questions", "--branch", "--base-branch"],
    "model train": [
        "--num-epochs",
        "--ckpt-output-dir",
        "--phased-phase1-data",
        "--phased-phase2-data",
        "--phased-phase1-num-epochs",
        "--phased-phase2-num-epochs",
    ],
    "model chat": ["-m", "--model", "-qq"],
    "model download": ["--repository"],
    "model serve": ["--gpu-layers", "--chat-template"],
    "data generate": ["--model", "--num-cpus"],
}


def command_at(path: str) -> click.Command:
    command: click.Command = cli
    for name in path.split():
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def option_named(command: click.Command, flag: str) -> click.Option:
    found = [p for p in command.params if isinstance(p, click.Option) and flag in (*p.opts, *p.secondary_opts)]
    assert len(found) == 1, f"{flag}: {len(found)} options"
    return found[0]


def sample_value(option: click.Option, tmp_path: Path) -> str:
    """A value the option accepts and that differs from its default."""
    if isinstance(option.type, click.types.IntParamType):
        return "3"
    if isinstance(option.type, click.Path):
        target = tmp_path / "given.jsonl"
        target.write_text('{"messages": []}\n')
        return str(target)
    return "some-value"


def parse(command: click.Command, args: list[str]) -> dict[str, object]:
    with command.make_context(command.name or "", args, resilient_parsing=False) as ctx:
        return dict(ctx.params)


def alias_cases() -> list[tuple[str, str, str]]:
    return [
        (path, flag, alias)
        for path, flags in ILAB_ALIASES.items()
        for flag, aliases in flags.items()
        for alias in aliases
    ]


@pytest.mark.parametrize(("path", "flag", "alias"), alias_cases())
def test_each_alias_is_in_help_and_sets_what_the_taxolab_flag_sets(
    path: str, flag: str, alias: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*path.split(), "--help"]) == 0
    help_text = capsys.readouterr().out
    assert alias in help_text.replace(",", " ").split(), f"{alias} not in `{path} --help`"
    command = command_at(path)
    option = option_named(command, flag)
    assert option_named(command, alias) is option
    value = sample_value(option, tmp_path)
    via_alias, via_flag = parse(command, [alias, value]), parse(command, [flag, value])
    assert via_alias == via_flag
    assert via_alias[option.name] not in (None, ())  # the value really arrived
    if option.name and "__" in option.name:  # a config key: the effective config holds the value
        section, key = option.name.split("__")
        config = load_config(None, overrides_from_flags(via_alias))
        assert str(getattr(getattr(config, section), key)) == value


@pytest.mark.parametrize(("path", "flag"), [(p, f) for p, flags in REQUIRED.items() for f in flags])
def test_every_ilab_flag_the_issue_names_is_accepted(path: str, flag: str) -> None:
    option_named(command_at(path), flag)


def test_serve_gpu_layers_and_chat_template_reach_llama_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taxolab.llm import backends

    monkeypatch.setattr(backends, "llama_server_binary", lambda: Path("/usr/bin/llama-server"))
    params = parse(command_at("model serve"), ["--gpu-layers", "-1", "--chat-template", "chatml"])
    serve = load_config(None, overrides_from_flags(params)).serve
    options = serve.start_options()
    assert options["gpu_layers"] == -1 and options["chat_template"] == "chatml"
    args = backends.ServerArgs(
        tmp_path / "m.gguf", "gguf", "m", "127.0.0.1", 8000, 2048, 1,
        gpu_layers=options["gpu_layers"], chat_template=options["chat_template"],
    )  # fmt: skip
    argv = backends.launch_spec("llama-cpp", args).argv
    assert argv[argv.index("--n-gpu-layers") + 1] == "all"  # llama-server's own -1 would mean "auto"
    assert argv[argv.index("--chat-template") + 1] == "chatml"
    template = tmp_path / "t.jinja"
    template.write_text("{{ messages }}")
    argv = backends.launch_spec(
        "llama-cpp", backends.ServerArgs(**{**args.__dict__, "chat_template": str(template)})
    ).argv
    assert argv[argv.index("--chat-template-file") + 1] == str(template) and "--jinja" in argv
    assert (
        "--chat-template"
        not in backends.launch_spec("llama-cpp", backends.ServerArgs(**{**args.__dict__, "chat_template": "auto"})).argv
    )


def test_phased_data_files_become_the_two_training_phases(tmp_path: Path) -> None:
    from taxolab.cli.model.train import phased_data_folder
    from taxolab.training.phases import plan_phases

    knowledge, skills = tmp_path / "k.jsonl", tmp_path / "s.jsonl"
    knowledge.write_text('{"messages": []}\n')
    skills.write_text('{"messages": [1]}\n')
    folder = phased_data_folder(knowledge, skills, tmp_path / "checkpoints")
    strategy, phases = plan_phases(folder, "auto")
    assert strategy == "lab-multiphase"
    assert [(p.name, p.data_file.read_text()) for p in phases] == [
        ("knowledge", knowledge.read_text()),
        ("skills", skills.read_text()),
    ]
    assert phased_data_folder(knowledge, skills, tmp_path / "checkpoints") == folder  # stable: reruns resume
    strategy, phases = plan_phases(phased_data_folder(None, skills, tmp_path / "checkpoints"), "auto")
    assert strategy == "lab-skills-only" and [p.name for p in phases] == ["skills"]
    strategy, phases = plan_phases(phased_data_folder(knowledge, None, tmp_path / "checkpoints"), "auto")
    assert strategy == "lab-knowledge-only" and [p.name for p in phases] == ["knowledge"]


def test_download_takes_the_repository_as_argument_or_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from taxolab.models import download

    asked: list[str] = []

    class Done:
        repo, revision, path, format = "org/name", "main", Path("/x"), None

    def fake(repo: str, *_: object, **__: object) -> Done:
        asked.append(repo)
        return Done()

    monkeypatch.setattr(download, "download_model", fake)
    assert main(["model", "download", "--repository", "org/name"]) == 0
    assert main(["model", "download", "org/name"]) == 0
    assert asked == ["org/name", "org/name"]
    assert main(["model", "download"]) == 2
    assert "name the repository" in capsys.readouterr().err


def test_evaluate_branch_reads_the_taxonomy_of_that_ref(tmp_path: Path) -> None:
    from taxolab.taxonomy.worktree import taxonomy_at
    from taxolab.testing.git import run_git

    repo = tmp_path / "taxonomy"
    repo.mkdir()
    run_git(repo, "init", "-q")
    (repo / "leaf.txt").write_text("committed on main\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "one")
    run_git(repo, "branch", "feature")
    (repo / "leaf.txt").write_text("work tree edit\n")
    with taxonomy_at(repo, "feature") as checkout:
        assert checkout != repo
        assert (checkout / "leaf.txt").read_text() == "committed on main\n"
    assert not checkout.exists()
    assert (repo / "leaf.txt").read_text() == "work tree edit\n"
    with taxonomy_at(repo, None) as same:
        assert same == repo
    from taxolab.errors import TaxolabError

    with pytest.raises(TaxolabError, match="no-such-branch"), taxonomy_at(repo, "no-such-branch"):
        pass


def test_a_stale_alias_table_fails_loudly() -> None:
    assert add_ilab_aliases(cli, strict=True) == []  # the real table: every entry found (again: idempotent)
    with pytest.raises(LookupError, match="no option --nope"):
        add_ilab_aliases(cli, {"model train": {"--nope": ("--x",)}}, strict=True)
    with pytest.raises(LookupError, match="already another option"):
        add_ilab_aliases(cli, {"model train": {"--epochs": ("--seed",)}}, strict=True)
    assert add_ilab_aliases(cli, {"model nothing": {"--a": ("--b",)}}) == ["ilab aliases: no command `model nothing`"]


def test_docs_ilab_page_lists_every_alias() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "ilab.md").read_text(encoding="utf-8")
    for path, flag, alias in alias_cases():
        assert f"`{alias}`" in page and f"`{flag}`" in page, f"docs/ilab.md lacks {alias} ({path})"
