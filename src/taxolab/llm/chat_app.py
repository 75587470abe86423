"""``taxolab model chat`` and ``taxolab model serve`` as library calls.

Chat needs an endpoint: the one given, or a local server for the model,
started for the chat and stopped when it ends (one slot is enough for one
person). Serving in the foreground runs until Ctrl-C and then stops the server
in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taxolab.llm.chat import ChatReply, ChatSession, ask_once, conversation_for
from taxolab.llm.endpoint import Endpoint
from taxolab.llm.repl import ReplIO, run_repl
from taxolab.llm.server import ServerHandle, start_server
from taxolab.llm.settings import ServeSettings
from taxolab.mixing.settings import MixSettings

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
    on_ready: Callable[[ServerHandle], None] | None = None,
) -> int:
    """Serve ``model`` in the foreground until the server exits or Ctrl-C; returns the server's exit code."""
    from taxolab.llm.opener import servable_path
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(model, models_dir)
    handle = start_server(
        servable_path(resolved, serve.backend),
        host=serve.host,
        port=serve.port,
        api_key=serve.api_key,
        **serve.start_options(),
    )
    with handle:
        if on_ready:
            on_ready(handle)
        try:
            return handle.wait()
        except KeyboardInterrupt:
            return 0


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
