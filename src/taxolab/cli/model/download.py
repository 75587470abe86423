"""``taxolab model download``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option
from taxolab.console import stderr
from taxolab.models.formats import FORMAT_LABELS


@click.command("download")
@click.argument("repo", required=False)
@click.option("--repo", "repo_option", metavar="ORG/NAME", default=None, help="Same as the REPO argument.")
@click.option("--revision", default=None, help="Branch, tag or commit (default: main).")
@click.option("--filename", default=None, help="Download only this file of the repository (e.g. a GGUF).")
@click.option(
    "--model-dir", "paths__models", type=click.Path(path_type=Path), help="Models folder [config: paths.models]."
)
@json_option
@click.pass_obj
def command(
    app: AppContext,
    *,
    repo: str | None,
    repo_option: str | None,
    revision: str | None,
    filename: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Download REPO (ORG/NAME) from the Hugging Face hub into the models folder.

    \b
    The token comes from HF_TOKEN; HF_ENDPOINT points at a mirror.
    Examples:
      taxolab model download HuggingFaceTB/SmolLM2-360M-Instruct
      taxolab model download bartowski/SmolLM2-360M-Instruct-GGUF --filename SmolLM2-360M-Instruct-Q4_K_M.gguf
    """
    from taxolab.models.download import download_model

    if repo and repo_option and repo != repo_option:
        raise click.UsageError(f"two repositories given ({repo} and --repo {repo_option}); name one")
    repo = repo or repo_option
    if not repo:
        raise click.UsageError("name the repository: taxolab model download ORG/NAME")
    done = download_model(repo, app.config(flags).paths.resolved("models"), revision=revision, filename=filename)
    result = {"repo": done.repo, "revision": done.revision, "path": str(done.path), "format": done.format}
    label = FORMAT_LABELS.get(done.format or "", "files")
    emit(result, as_json, lambda r: stderr.print(f"downloaded {r['repo']} ({label}) to {r['path']}"))


COMMANDS = [command]
