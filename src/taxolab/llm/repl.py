"""The interactive chat loop: read a message, stream the answer, handle slash commands.

Input comes from a ``read_line(prompt)`` function (``input`` with GNU readline
for history and line editing in a terminal; anything in tests), so the loop
runs the same when a person types and when a script pipes lines in.

Multi-line messages: end a line with ``\\`` to continue it, or put the message
between two lines of ``\"\"\"``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from taxolab.errors import TaxolabError
from taxolab.llm.chat import ChatSession
from taxolab.llm.client import OpenAIClient

HELP = """Commands:
  /help           this help
  /clear          forget the conversation (keeps the system prompt)
  /system         show the system prompt
  /system TEXT    set the system prompt (and clear the conversation); `/system -` removes it
  /quit           leave (also /exit or Ctrl-D)
Multi-line: end a line with \\ to continue, or wrap the message in lines of \"\"\".
Ctrl-C stops an answer; Ctrl-D leaves."""

FENCE = '"""'


@dataclass
class ReplIO:
    """How the loop talks to the user: ``write`` for answers (stdout), ``notice`` for everything else."""

    read_line: Callable[[str], str]
    write: Callable[[str], None]
    notice: Callable[[str], None]


def run_repl(session: ChatSession, io: ReplIO, *, banner: str | None = None) -> int:
    """Chat until the user quits; returns the number of answered messages."""
    if banner:
        io.notice(banner)
    answered = 0
    loop = asyncio.new_event_loop()
    try:
        while True:
            message = read_message(io)
            if message is None:
                break
            if not message.strip():
                continue
            if message.startswith("/"):
                if not _command(message.strip(), session, io):
                    break
                continue
            if _answer(loop, session, message, io):
                answered += 1
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(session.client.aclose())
            # A stopped answer leaves its stream's generator to finalise; do it before the loop goes.
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return answered


def read_message(io: ReplIO) -> str | None:
    """One message, possibly spanning several lines; None on end of input or Ctrl-C at the prompt."""
    try:
        first = io.read_line(">>> ")
    except (EOFError, KeyboardInterrupt):
        return None
    if first.strip() == FENCE:
        return "\n".join(_lines_until_fence(io))
    lines = [first]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        try:
            lines.append(io.read_line("... "))
        except (EOFError, KeyboardInterrupt):
            break
    return "\n".join(lines)


def history_file_setup(path: Path) -> Callable[[], None]:
    """Turn on readline history saved in ``path``; returns the function that saves it."""
    try:
        import readline
    except ImportError:  # not every platform has GNU readline
        return lambda: None
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


def _lines_until_fence(io: ReplIO) -> Iterator[str]:
    while True:
        try:
            line = io.read_line("... ")
        except (EOFError, KeyboardInterrupt):
            return
        if line.strip() == FENCE:
            return
        yield line


def _answer(loop: asyncio.AbstractEventLoop, session: ChatSession, message: str, io: ReplIO) -> bool:
    def trimmed(count: int) -> None:
        io.notice(f"[dropped the oldest {count} turn{'s' if count > 1 else ''} to stay within the context window]")

    task = loop.create_task(session.ask(message, on_delta=io.write, on_trim=trimmed))
    try:
        loop.run_until_complete(task)
    except KeyboardInterrupt:
        if not task.done():  # interrupted while waiting on the server: cancel the request
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        elif not task.cancelled():
            # Interrupted inside the task's own code: it already ended with the interrupt.
            # (Never run the loop on it again: asyncio does not stop for a KeyboardInterrupt result.)
            task.exception()
        # Ctrl-C can land inside the stream's own code and leave its connection and
        # request slot half released: continue on a fresh client to be safe.
        session.client = loop.run_until_complete(_fresh_client(session.client))
        io.write("\n")
        io.notice("[answer stopped; it is not kept in the conversation]")
        return False
    except TaxolabError as exc:
        io.notice(f"error: {exc}")
        return False
    io.write("\n")
    return True


async def _fresh_client(client: OpenAIClient) -> OpenAIClient:
    with contextlib.suppress(Exception):
        await client.aclose()
    return client.clone()


def _command(line: str, session: ChatSession, io: ReplIO) -> bool:
    """Run a slash command; False means quit."""
    name, _, argument = line.partition(" ")
    argument = argument.strip()
    conversation = session.conversation
    if name in ("/quit", "/exit", "/q"):
        return False
    if name in ("/help", "/?"):
        io.notice(HELP)
    elif name == "/clear":
        conversation.clear()
        io.notice("[conversation cleared]")
    elif name == "/system":
        if not argument:
            io.notice(f"system prompt: {conversation.system!r}" if conversation.system else "no system prompt")
        else:
            conversation.system = None if argument == "-" else argument
            conversation.clear()
            io.notice("[system prompt set; conversation cleared]")
    else:
        io.notice(f"unknown command {name}; /help lists them")
    return True
