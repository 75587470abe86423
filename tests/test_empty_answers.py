"""An empty model answer is an error, not a blank line with exit 0 (issue 12, sibling of every case)."""

from __future__ import annotations

import json

import pytest

from taxolab.cli.main import main
from taxolab.testing.fake_openai import FakeOpenAIServer


@pytest.mark.parametrize("as_json", [False, True])
def test_chat_question_with_an_empty_answer_fails(as_json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAIServer(lambda request: "") as server:
        url = server.url
        code = main(["model", "chat", "--endpoint-url", url, "-q", "Hello?", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 1 and out.strip() == "" and "Traceback" not in err
    assert f"at {url} returned an empty answer" in err and "--temperature" in err


def test_chat_question_with_an_answer_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAIServer(lambda request: "Paris.") as server:
        code = main(["model", "chat", "--endpoint-url", server.url, "-q", "Capital of France?", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0 and json.loads(out)["answer"].strip() == "Paris."
