"""``taxolab model convert``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext, emit
from taxolab.cli.model.listing import human_size
from taxolab.cli.options import json_option
from taxolab.console import stderr
from taxolab.models.convert import OUTTYPES


@click.command("convert")
@click.option(
    "--model-path", required=True, help="HF folder or LoRA adapter to convert (path or name from `model list`)."
)
@click.option("--outtype", type=click.Choice(OUTTYPES, case_sensitive=False), default="f16", show_default=True,
              help="GGUF weight type; k-quants are made from f16 with llama-quantize.")  # fmt: skip
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="GGUF file to write (default: <models folder>/<name>.<OUTTYPE>.gguf).")  # fmt: skip
@click.option(
    "--model-dir", "paths__models", type=click.Path(path_type=Path), help="Models folder [config: paths.models]."
)
@json_option
@click.pass_obj
def command(app: AppContext, model_path: str, outtype: str, output: Path | None, as_json: bool, **flags: Any) -> None:
    """Convert an HF model folder (or a LoRA adapter, merged first) to GGUF for llama.cpp.

    \b
    Examples:
      taxolab model convert --model-path ./checkpoints/run/final
      taxolab model convert --model-path ./checkpoints/run/final --outtype q4_k_m
    """
    from taxolab.models.convert import convert_model

    with stderr.status(f"converting {model_path} to {outtype.upper()} GGUF"):
        done = convert_model(model_path, app.config(flags).paths.resolved("models"), outtype=outtype, output=output)
    result = {
        "source": str(done.source),
        "output": str(done.output),
        "outtype": done.outtype,
        "size_bytes": done.size_bytes,
    }
    emit(result, as_json, lambda r: stderr.print(f"wrote {r['output']} ({human_size(r['size_bytes'])})"))


COMMANDS = [command]
