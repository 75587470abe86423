"""Conversation trimming, the REPL and `model chat` against the scripted fake server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.llm.chat import ChatSession, Conversation
from taxolab.llm.client import OpenAIClient
from taxolab.llm.repl import ReplIO, run_repl
from taxolab.testing.fake_openai import FakeOpenAIServer


def words(text: str) -> int:
    return len(text.split())


def test_oldest_turns_are_dropped_to_fit_and_counted() -> None:
    conversation = Conversation(ctx_size=60, reserve=10, system="be brief", count_tokens=words)
    for index in range(4):
        conversation.add(f"question {index} " + "w " * 5, "answer " + "w " * 5)
    # each turn costs (7 + 6) + (6 + 6) = 25; system 2 + 6; question 1 + 6 -> room for one turn in 50
    assert conversation.fit("next") == 3
    assert [turn.user.split()[1] for turn in conversation.turns] == ["3"]
    sent = conversation.messages("next")
    assert sent[0] == {"role": "system", "content": "be brief"}
    assert sent[-1] == {"role": "user", "content": "next"}


def test_a_message_longer_than_the_context_is_refused() -> None:
    conversation = Conversation(ctx_size=30, reserve=10, count_tokens=words)
    with pytest.raises(TaxolabError, match="too long for the model's context"):
        conversation.fit("w " * 40)


def test_session_streams_and_remembers_the_turn(fake_teacher: FakeOpenAIServer) -> None:
    deltas: list[str] = []

    async def go() -> None:
        async with OpenAIClient(fake_teacher.url) as client:
            session = ChatSession(client, Conversation(system="sys"), max_tokens=20)
            reply = await session.ask("hello there", on_delta=deltas.append)
            assert reply.text.split() == ["there", "hello"]
            await session.ask("again")

    asyncio.run(go())
    assert len(deltas) == 2
    last = fake_teacher.requests[-1]
    assert last["stream"] is True and last["max_tokens"] == 20
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "user"]


def scripted(lines: list[str]) -> tuple[ReplIO, list[str], list[str]]:
    feed: Iterator[str] = iter(lines)
    out: list[str] = []
    notes: list[str] = []

    def read(_prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return ReplIO(read_line=read, write=out.append, notice=notes.append), out, notes


def test_repl_commands_multiline_and_trimming(fake_teacher: FakeOpenAIServer) -> None:
    io, out, notes = scripted(
        [
            "first question",
            "/system",
            "/system You are terse.",
            "/system",
            "continued \\",
            "line",
            '"""',
            "block one",
            "block two",
            '"""',
            "/clear",
            "/nope",
            "/help",
            "after clear",
            "/quit",
            "never sent",
        ]
    )
    conversation = Conversation(ctx_size=4096, reserve=100)
    session = ChatSession(OpenAIClient(fake_teacher.url), conversation)
    answered = run_repl(session, io)
    assert answered == 4
    sent = [request["messages"] for request in fake_teacher.requests]
    assert sent[0] == [{"role": "user", "content": "first question"}]
    assert sent[1][0] == {"role": "system", "content": "You are terse."} and len(sent[1]) == 2
    assert sent[1][-1]["content"] == "continued \nline"
    assert sent[2][-1]["content"] == "block one\nblock two" and len(sent[2]) == 4
    assert sent[3] == [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "after clear"}]
    assert "".join(out).split("\n")[0].split() == ["question", "first"]
    assert "no system prompt" in notes and "system prompt: 'You are terse.'" in notes
    assert any("unknown command /nope" in note for note in notes)
    assert any("/clear" in note and "/system TEXT" in note for note in notes)


def test_repl_says_when_it_drops_turns(fake_teacher: FakeOpenAIServer) -> None:
    io, _, notes = scripted(["a " * 30, "b " * 30, "c " * 30])
    session = ChatSession(OpenAIClient(fake_teacher.url), Conversation(ctx_size=120, reserve=20, count_tokens=words))
    assert run_repl(session, io) == 3
    assert any("dropped the oldest 1 turn" in note for note in notes)


def test_chat_cli_one_question_against_an_endpoint(
    fake_teacher: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["model", "chat", "--endpoint-url", fake_teacher.url, "-q", "capital the is what", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["answer"].strip() == "what is the capital" and result["model"] == "fake-teacher"
    code = main(["model", "chat", "--endpoint-url", fake_teacher.url, "-q", "b a", "--system", "S"])
    out, _ = capsys.readouterr()
    assert code == 0 and out.split() == ["a", "b"]
    assert fake_teacher.requests[-1]["messages"][0] == {"role": "system", "content": "S"}


def test_chat_cli_unreachable_endpoint_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from taxolab.llm.process import free_port

    code = main(["model", "chat", "--endpoint-url", f"http://127.0.0.1:{free_port()}", "-q", "hi"])
    _, err = capsys.readouterr()
    assert code == 1 and "nothing answers at this address (connection refused)" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


@pytest.mark.parametrize("where", ["event loop", "answer code"])
def test_ctrl_c_stops_an_answer_and_forgets_it(fake_teacher: FakeOpenAIServer, where: str) -> None:
    """SIGINT lands either while the loop waits on the server or inside the code printing the answer."""
    io, out, notes = scripted(["first words here", "second"])
    pressed = []

    def ctrl_c() -> None:
        raise KeyboardInterrupt

    def write(text: str) -> None:
        if not pressed:  # Ctrl-C arrives while the first answer streams
            pressed.append(text)
            if where == "answer code":
                raise KeyboardInterrupt
            asyncio.get_running_loop().call_soon(ctrl_c)
        out.append(text)

    io.write = write
    session = ChatSession(OpenAIClient(fake_teacher.url), Conversation())
    assert run_repl(session, io) == 1
    assert any("answer stopped" in note for note in notes)
    assert fake_teacher.requests[-1]["messages"] == [{"role": "user", "content": "second"}]
