"""`model chat` sends the one system prompt of the config (mix.system_prompt) unless told otherwise."""

from __future__ import annotations

import pytest

from taxolab.cli.main import main
from taxolab.config import load_config
from taxolab.testing.fake_openai import FakeOpenAIServer


def test_chat_default_system_prompt_is_the_config_key(
    fake_teacher: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    default = load_config(None).mix.system_prompt
    assert main(["model", "chat", "--endpoint-url", fake_teacher.url, "-q", "hi"]) == 0
    assert fake_teacher.requests[-1]["messages"][0] == {"role": "system", "content": default}
    monkeypatch.setenv("TAXOLAB_MODELS__SYSTEM_PROMPT", "Answer in one word.")
    assert main(["model", "chat", "--endpoint-url", fake_teacher.url, "-q", "hi"]) == 0
    assert fake_teacher.requests[-1]["messages"][0] == {"role": "system", "content": "Answer in one word."}
    assert main(["model", "chat", "--endpoint-url", fake_teacher.url, "-q", "hi", "--system", ""]) == 0
    assert fake_teacher.requests[-1]["messages"][0]["role"] == "user"
    capsys.readouterr()
