"""``taxolab model chat`` and ``taxolab model serve`` as library calls.

Chat needs an endpoint: the one given, or a local server for the model,
started for the chat and stopped when it ends (one slot is enough for one
person). Serving in the foreground runs until Ctrl-C and then stops the server
in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab.console import stderr
from taxolab.llm.chat import ChatReply, ChatSession, ask_once, conversation_for
from taxolab.llm.endpoint import Endpoint
from taxolab.llm.repl import ReplIO, run_repl
from taxolab.llm.server import ServerHandle, start_server
from taxolab.llm.settings import ServeSettings
from taxolab.mixing.settings import MixSettings

if TYPE_CHECKING:
    from taxolab.evaluation.loglik import LoglikScorer
    from taxolab.llm.front import FrontServer

DEFAULT_CTX = 4096
# Small chat models follow a plain assistant prompt better than their built-in persona
# (the default model answers "What is the capital of France?" correctly only with one).
# The default is the config's `mix.system_prompt`, the one training and evaluation use.
DEFAULT_SYSTEM_PROMPT: str = MixSettings.model_fields["system_prompt"].default


@dataclass(frozen=True)
class ChatOptions:
    model: str = "default"  # reference resolved by taxolab.models.resolve
    endpoint_url: str | None = None
    api_key: str | None = None
    system: str | None = None  # None: DEFAULT_SYSTEM_PROMPT; "": none at all
    max_tokens: int = 512
    temperature: float | None = None

    @property
    def system_prompt(self) -> str | None:
        return DEFAULT_SYSTEM_PROMPT if self.system is None else (self.system or None)


@dataclass(frozen=True)
class ChatAnswer:
    question: str
    answer: str
    model: str
    endpoint: str


def answer_question(
    question: str,
    options: ChatOptions,
    serve: ServeSettings,
    models_dir: Path,
    on_delta: Callable[[str], None] | None = None,
) -> ChatAnswer:
    """Answer one question (streamed through ``on_delta``) and stop any server started for it."""
    with _chat_endpoint(options, serve, models_dir) as endpoint:
        reply: ChatReply = asyncio.run(_ask(endpoint, question, options, on_delta))
    return ChatAnswer(question, reply.text, endpoint.model, endpoint.url)


def interactive_chat(
    options: ChatOptions,
    serve: ServeSettings,
    models_dir: Path,
    io: ReplIO,
    on_ready: Callable[[Endpoint], None] | None = None,
) -> int:
    """Run the REPL against the model; returns the number of answers given."""
    with _chat_endpoint(options, serve, models_dir) as endpoint:
        if on_ready:
            on_ready(endpoint)
        client = endpoint.client(max_concurrency=1)
        conversation = conversation_for(endpoint.ctx_size or DEFAULT_CTX, options.max_tokens, options.system_prompt)
        session = ChatSession(client, conversation, max_tokens=options.max_tokens, temperature=options.temperature)
        return run_repl(session, io)


def serve_model(
    model: str,
    serve: ServeSettings,
    models_dir: Path,
    on_ready: Callable[[ServerHandle, str], None] | None = None,
) -> int:
    """Serve ``model`` in the foreground until the engine exits or Ctrl-C; returns the engine's exit code.

    The engine listens on a private loopback port; taxolab's OpenAI-compatible
    front (:mod:`taxolab.llm.front`) listens on ``serve.host:serve.port`` and
    adds what the engine lacks: prompt log-probabilities for ``echo``
    (lm-evaluation-harness's log-likelihood tasks), ``/v1/models/{id}`` and
    404s for unknown model names. ``on_ready`` gets the engine and the front's
    base URL (``http://host:port/v1``).
    """
    from taxolab.llm.opener import servable_path
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(model, models_dir)
    engine = start_server(
        servable_path(resolved, serve.backend),
        host="127.0.0.1",
        port=0,
        api_key=serve.api_key,
        **serve.start_options(),
    )
    with engine, serve_front(engine, model, models_dir, serve.host, serve.port) as front:
        if on_ready:
            on_ready(engine, front.url)
        try:
            return engine.wait()
        except KeyboardInterrupt:
            return 0


def serve_front(engine: ServerHandle, model: str, models_dir: Path, host: str, port: int) -> FrontServer:
    """Start taxolab's OpenAI front for ``engine`` (serving ``model``) on ``host:port``; stop it with ``stop()``.

    Prompt log-probabilities (echo) and the tokenizer routes use the model's
    own weights and tokenizer in transformers, loaded on first use; vLLM
    answers echo itself, so in front of it they pass through.
    """
    from taxolab.llm.front import FrontServer

    own_echo = engine.backend != "vllm"
    return FrontServer(
        engine.root_url,
        host,
        port,
        api_key=engine.api_key,
        scorer=functools.partial(prompt_scorer, model, models_dir) if own_echo else None,
        tokenizer=functools.partial(prompt_tokenizer, model, models_dir) if own_echo else None,
    )


def prompt_scorer(model: str, models_dir: Path) -> LoglikScorer:
    """The served model's weights in transformers, for prompt log-probabilities.

    The default model and HF folders load their HF weights; a GGUF file is
    de-quantised by transformers (fp32; ~40 s on 2 cores for the default
    model's size, against ~0.3 s for its converted HF folder).
    """
    from taxolab.evaluation.loglik import load_scorer
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(model, models_dir, prefer="hf")
    stderr.print(f"loading {resolved.path} in transformers for prompt log-probabilities (echo)", highlight=False)
    if resolved.format == "gguf":
        return load_scorer(resolved.path.parent, gguf_file=resolved.path.name)
    return load_scorer(resolved.path)


def prompt_tokenizer(model: str, models_dir: Path) -> Any:
    """The tokenizer :func:`prompt_scorer` uses, loaded alone (~0.3 s from an HF folder, ~8 s from a GGUF)."""
    from transformers import AutoTokenizer

    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(model, models_dir, prefer="hf")
    if resolved.format == "gguf":
        return AutoTokenizer.from_pretrained(resolved.path.parent, gguf_file=resolved.path.name)
    return AutoTokenizer.from_pretrained(resolved.path)


async def _ask(
    endpoint: Endpoint, question: str, options: ChatOptions, on_delta: Callable[[str], None] | None
) -> ChatReply:
    async with endpoint.client(max_concurrency=1) as client:
        return await ask_once(
            client,
            question,
            system=options.system_prompt,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            ctx_size=endpoint.ctx_size or DEFAULT_CTX,
            on_delta=on_delta,
        )


def _chat_endpoint(
    options: ChatOptions, serve: ServeSettings, models_dir: Path
) -> contextlib.AbstractContextManager[Endpoint]:
    """The model to chat with: ``--endpoint-url``, or a one-slot local server (one person asks one at a time)."""
    from taxolab.llm.opener import open_model

    return open_model(
        options.model,
        options.endpoint_url,
        serve=serve,
        models_dir=models_dir,
        api_key=options.api_key,
        slots=1,
        parallel=1,
    )
