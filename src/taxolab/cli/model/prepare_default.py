"""``taxolab model prepare-default``: what ``scripts/setup`` runs to make the default model ready; users rerun it."""

from __future__ import annotations

import click

from taxolab.cli.context import emit
from taxolab.cli.options import json_option
from taxolab.console import stderr


@click.command("prepare-default")
@click.option("--quiet", is_flag=True, help="No progress output.")
@json_option
def command(quiet: bool, as_json: bool) -> None:
    """Convert the packaged default model's GGUF to a cached HF folder (once)."""
    from taxolab.models.default import prepare_default

    done = prepare_default(quiet=quiet)
    result = {"gguf": str(done.gguf), "hf_dir": str(done.hf_dir), "converted": done.converted, "seconds": done.seconds}

    def render(r: dict[str, object]) -> None:
        if not quiet or done.converted:
            verb = f"converted in {done.seconds:.0f} s" if done.converted else "already prepared"
            stderr.print(f"default model ready: {r['gguf']}; HF folder {r['hf_dir']} ({verb})")

    emit(result, as_json, render)


COMMANDS = [command]
