"""``taxolab model serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext
from taxolab.cli.options import settings_options
from taxolab.console import stderr
from taxolab.llm.settings import ServeSettings


@click.command("serve")
@click.option("--model-path", default="default", show_default=True,
              help="GGUF file, HF folder (vLLM) or a name from `model list`.")  # fmt: skip
@settings_options(
    "serve",
    ServeSettings,
    "backend",
    "host",
    "port",
    "max_ctx_size",
    "parallel",
    "threads",
    "api_key",
    "startup_timeout",
    "gpu_layers",
    "chat_template",
)
@click.option(
    "--model-dir", "paths__models", type=click.Path(path_type=Path), help="Models folder [config: paths.models]."
)
@click.pass_obj
def command(app: AppContext, model_path: str, **flags: Any) -> None:
    """Serve a model over an OpenAI-compatible API (llama.cpp or vLLM) until Ctrl-C.

    \b
    Examples:
      taxolab model serve                                  # the packaged default model on 127.0.0.1:8000
      taxolab model serve --model-path my-model.Q4_K_M.gguf --parallel 8 --max-ctx-size 8192
      taxolab model serve --model-path my-model.Q4_K_M.gguf --gpu-layers -1 --chat-template chatml
    """
    from taxolab.llm.chat_app import serve_model

    config = app.config(flags)

    def ready(engine: Any, url: str) -> None:
        stderr.print(
            f"serving {engine.model} with {engine.backend} at {url} "
            f"({engine.parallel} slot(s) of {engine.ctx_size} tokens); log {engine.log_path}; Ctrl-C stops it",
            soft_wrap=True,
        )

    code = serve_model(model_path, config.serve, config.paths.resolved("models"), on_ready=ready)
    stderr.print("server stopped" if code in (0, -15) else f"server exited with code {code}")


COMMANDS = [command]
