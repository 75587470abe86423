"""``taxolab model chat``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option, settings_options
from taxolab.config import paths
from taxolab.console import stderr
from taxolab.errors import TaxolabError
from taxolab.llm.settings import ServeSettings


@click.command("chat")
@click.option("--model-path", "chat__model", default=None,
              help="Model to start a server for: GGUF, HF folder (vLLM) or a name from `model list` [config: chat.model].")  # fmt: skip
@click.option("--endpoint-url", "chat__endpoint_url", default=None,
              help="Chat with this OpenAI-compatible server instead of starting one [config: chat.endpoint_url].")  # fmt: skip
@click.option("--api-key", default=None, envvar="TAXOLAB_CHAT_API_KEY", help="API key for --endpoint-url.")
@click.option("-q", "--question", default=None, help="Ask one question, print the answer and exit.")
@click.option(
    "--system",
    default=None,
    help='System prompt (default: mix.system_prompt, the one training and evaluation use; "" for none).',
)
@click.option("--max-tokens", "chat__max_tokens", type=click.IntRange(1), default=None,
              help="Longest answer [config: chat.max_tokens].")  # fmt: skip
@click.option("--temperature", "chat__temperature", type=click.FloatRange(0), default=None,
              help="Sampling temperature; 0 (greedy) gives reproducible answers and keeps small models on topic [config: chat.temperature].")  # fmt: skip
@settings_options("serve", ServeSettings, "backend", "max_ctx_size", "threads", "gpu_layers", "chat_template")
@click.option(
    "--model-dir", "paths__models", type=click.Path(path_type=Path), help="Models folder [config: paths.models]."
)
@json_option
@click.pass_obj
def command(
    app: AppContext,
    *,
    api_key: str | None,
    question: str | None,
    system: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Chat with a model, once with -q or in an interactive session.

    \b
    Examples:
      taxolab model chat -q "What is the capital of France?"
      taxolab model chat --model-path my-model.Q4_K_M.gguf --system "You are terse."
      taxolab model chat --endpoint-url http://127.0.0.1:8000/v1
    """
    from taxolab.llm.chat_app import ChatOptions, answer_question, interactive_chat

    config = app.config(flags)
    system = config.mix.system_prompt if system is None else system
    chat = config.chat
    options = ChatOptions(chat.model, chat.endpoint_url, api_key, system, chat.max_tokens, chat.temperature)
    models_dir = config.paths.resolved("models")
    if question is not None:
        on_delta = None if as_json else _write
        answer = answer_question(question, options, config.serve, models_dir, on_delta=on_delta)
        if not answer.answer.strip():
            # a blank line and exit 0 would read as success to a person and to a script alike
            raise TaxolabError(
                f"{answer.model} at {answer.endpoint} returned an empty answer (it ended at once); "
                "try --temperature 0.7, another --system prompt, or check its chat template (--chat-template)"
            )
        result = {
            "question": answer.question,
            "answer": answer.answer,
            "model": answer.model,
            "endpoint": answer.endpoint,
        }
        emit(result, as_json, lambda _: _write("\n"))
        return
    if as_json:
        raise click.UsageError("--json needs -q (one question, one JSON answer)")
    from taxolab.llm.repl import ReplIO, history_file_setup

    save_history = history_file_setup(paths.data_dir() / "chat_history") if sys.stdin.isatty() else (lambda: None)
    io = ReplIO(read_line=_reader(), write=_write, notice=lambda text: stderr.print(text, markup=False, soft_wrap=True))
    try:
        interactive_chat(
            options,
            config.serve,
            models_dir,
            io,
            on_ready=lambda e: stderr.print(
                f"chatting with {e.model} at {e.url}; /help for commands, Ctrl-D to quit", soft_wrap=True
            ),
        )
    finally:
        save_history()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _reader() -> Any:
    """``input`` in a terminal (readline editing); plain line reads from a pipe, without echoing prompts."""
    if sys.stdin.isatty():
        return input

    def read(_prompt: str) -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return read


COMMANDS = [command]
