"""A conversation with a served model that stays inside its context window.

:class:`Conversation` holds the system prompt and the finished turns and
decides what is sent: when the next prompt plus the room kept for the answer
would not fit the model's context, the oldest turns are dropped (and the
caller is told how many), never the system prompt or the new question.
:class:`ChatSession` sends it through :class:`~taxolab.llm.client.OpenAIClient`
and streams the answer. The interactive loop (:mod:`taxolab.llm.repl`) and
``taxolab model chat -q`` both sit on top of these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from taxolab.errors import TaxolabError
from taxolab.llm.client import Message, OpenAIClient

# Per-message overhead of chat templates (role markers, separators), in tokens.
_MESSAGE_OVERHEAD = 6


def estimate_tokens(text: str) -> int:
    """A deliberately high token estimate (3 bytes per token; BPE vocabularies average ~4 on English).

    Over-counting only drops a turn a little early; under-counting would make
    the server reject the request, which is worse mid-conversation.
    """
    return len(text.encode("utf-8")) // 3 + 1


@dataclass(frozen=True)
class Turn:
    user: str
    assistant: str


@dataclass(frozen=True)
class ChatReply:
    text: str
    dropped_turns: int = 0
    finished: bool = True  # False when the answer was interrupted


@dataclass
class Conversation:
    """System prompt plus the turns that still fit in ``ctx_size`` with ``reserve`` tokens left for the answer."""

    ctx_size: int = 4096
    reserve: int = 512
    system: str | None = None
    turns: list[Turn] = field(default_factory=list)
    count_tokens: Callable[[str], int] = estimate_tokens

    def messages(self, question: str) -> list[Message]:
        """The messages to send for ``question`` (call :meth:`fit` first)."""
        messages: list[Message] = [{"role": "system", "content": self.system}] if self.system else []
        for turn in self.turns:
            messages.append({"role": "user", "content": turn.user})
            messages.append({"role": "assistant", "content": turn.assistant})
        messages.append({"role": "user", "content": question})
        return messages

    def fit(self, question: str) -> int:
        """Drop the oldest turns until ``question`` fits; returns how many were dropped."""
        budget = self.ctx_size - self.reserve
        fixed = self._cost(self.system or "") + self._cost(question)
        if fixed > budget:
            raise TaxolabError(
                f"the message is too long for the model's context ({fixed} tokens estimated, "
                f"{budget} available after keeping {self.reserve} for the answer): shorten it or lower --max-tokens"
            )
        dropped = 0
        while self.turns and fixed + sum(self._cost(t.user) + self._cost(t.assistant) for t in self.turns) > budget:
            self.turns.pop(0)
            dropped += 1
        return dropped

    def add(self, question: str, answer: str) -> None:
        self.turns.append(Turn(question, answer))

    def clear(self) -> None:
        self.turns.clear()

    def _cost(self, text: str) -> int:
        return self.count_tokens(text) + _MESSAGE_OVERHEAD


def conversation_for(ctx_size: int, max_tokens: int, system: str | None) -> Conversation:
    """A conversation that keeps room for a ``max_tokens`` answer (at most half the context)."""
    return Conversation(ctx_size=ctx_size, reserve=min(max_tokens, ctx_size // 2), system=system)


class ChatSession:
    """One conversation against one endpoint; answers stream through ``on_delta``."""

    def __init__(
        self,
        client: OpenAIClient,
        conversation: Conversation,
        *,
        max_tokens: int = 512,
        temperature: float | None = None,
    ) -> None:
        self.client = client
        self.conversation = conversation
        self.max_tokens = max_tokens
        self.temperature = temperature

    async def ask(
        self,
        question: str,
        on_delta: Callable[[str], None] | None = None,
        on_trim: Callable[[int], None] | None = None,
    ) -> ChatReply:
        """Send ``question`` with the turns that fit, stream the answer, and remember the turn.

        If the caller cancels mid-answer (Ctrl-C), the partial answer is not
        kept, so the next question does not build on half a reply.
        """
        dropped = self.conversation.fit(question)
        if dropped and on_trim:
            on_trim(dropped)
        parts: list[str] = []
        stream = self.client.stream_chat(
            self.conversation.messages(question), max_tokens=self.max_tokens, temperature=self.temperature
        )
        async with contextlib.aclosing(stream):  # closes the HTTP stream at once if the caller fails mid-answer
            async for delta in stream:
                parts.append(delta)
                if on_delta:
                    on_delta(delta)
        answer = "".join(parts)
        self.conversation.add(question, answer)
        return ChatReply(answer, dropped)


async def ask_once(
    client: OpenAIClient,
    question: str,
    *,
    system: str | None = None,
    max_tokens: int = 512,
    temperature: float | None = None,
    ctx_size: int = 4096,
    on_delta: Callable[[str], None] | None = None,
) -> ChatReply:
    """One question, one answer (``taxolab model chat -q``)."""
    conversation = conversation_for(ctx_size, max_tokens, system)
    session = ChatSession(client, conversation, max_tokens=max_tokens, temperature=temperature)
    return await session.ask(question, on_delta=on_delta)
