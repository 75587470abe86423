"""``taxolab config``: create, show and edit the YAML config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option
from taxolab.config import config_file, load_config
from taxolab.config.render import render_documented
from taxolab.config.schema import Config
from taxolab.console import stderr, stdout
from taxolab.errors import TaxolabError
from taxolab.fsio import write_text


@click.group("config")
def config_group() -> None:
    """Create, show and edit the configuration file."""


@config_group.command("init")
@click.option("--non-interactive", is_flag=True, help="Write the defaults without asking anything.")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option("--taxonomy-path", type=click.Path(path_type=Path), help="Taxonomy repository to use.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Root folder for everything taxolab makes.")
@click.pass_obj
def init(
    app: AppContext, non_interactive: bool, force: bool, taxonomy_path: Path | None, data_dir: Path | None
) -> None:
    """Write a config file with every setting documented, and create the data folders.

    Asks before overwriting only when the file exists (``--force`` skips the
    question; answering no stops without writing). When stdin is not a terminal
    nothing is asked: the defaults (and the flags) are written, as with
    ``--non-interactive``. Path keys left at their default are written commented
    out, so ``TAXOLAB_DATA_DIR`` keeps moving the data folder (docs/configuration.md).
    """
    target = config_file(app.config_path)
    if not non_interactive and not sys.stdin.isatty():
        non_interactive = True
        stderr.print("stdin is not a terminal: writing the defaults (as --non-interactive)", highlight=False)
    if target.exists() and not force:
        if non_interactive:
            raise TaxolabError(f"{target}: already exists; pass --force to overwrite it")
        if not click.confirm(f"{target} exists. Overwrite it?", default=False, err=True):
            raise TaxolabError(f"{target}: left unchanged (pass --force to overwrite it)")
    config = Config()
    default_data_dir = config.paths.data_dir
    if data_dir:
        config.paths.data_dir = data_dir.expanduser().resolve()
    if not non_interactive:
        config.paths.data_dir = Path(
            click.prompt("Data folder", default=str(config.paths.data_dir), err=True)
        ).expanduser()
        default_taxonomy = taxonomy_path or config.paths.resolved("taxonomy")
        answer = Path(click.prompt("Taxonomy path", default=str(default_taxonomy), err=True)).expanduser()
        taxonomy_path = None if answer == config.paths.resolved("taxonomy") else answer
        config.models.teacher = click.prompt("Teacher model", default=config.models.teacher, err=True)
        config.models.student = click.prompt("Student model", default=config.models.student, err=True)
    if taxonomy_path:
        config.paths.taxonomy = taxonomy_path.expanduser().resolve()
    commented = [] if config.paths.data_dir != default_data_dir else ["paths.data_dir"]
    write_text(
        target, render_documented(config, commented=commented), elsewhere="config file (--config or TAXOLAB_CONFIG_DIR)"
    )
    for name in ("taxonomy", "datasets", "checkpoints", "models", "runs"):
        config.paths.resolved(name).mkdir(parents=True, exist_ok=True)
    stderr.print(f"wrote {target}")
    stderr.print(f"data folder: {config.paths.data_dir}")


@config_group.command("show")
@json_option
@click.pass_obj
def show(app: AppContext, as_json: bool) -> None:
    """Print the effective config (file + environment overrides)."""
    config = app.config()
    emit(config.model_dump(mode="json"), as_json, lambda _: stdout.print(render_documented(config), end=""))


@config_group.command("edit")
@click.pass_obj
def edit(app: AppContext) -> None:
    """Open the config in $EDITOR and validate it when the editor closes.

    The file is not read before the editor opens: this is the command that fixes
    an invalid config, so it must work on one. Problems left after editing are
    reported (every one, with its line) and exit 1.
    """
    target = config_file(app.config_path)
    if not target.exists():
        spelled = f"--config {target} " if app.config_path is not None else ""
        raise TaxolabError(f"{target}: no config yet; create it with `taxolab {spelled}config init`")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    # Run through the shell as git does (`sh -c '$EDITOR "$@"'`), so values with arguments or quotes work.
    done = subprocess.run(["sh", "-c", f'{editor} "$@"', editor, str(target)], check=False)
    if done.returncode == 127:
        raise TaxolabError(f"editor {editor!r} not found; set $EDITOR or $VISUAL to your editor's command")
    load_config(target)
    stderr.print(f"{target} is valid", soft_wrap=True, highlight=False)
