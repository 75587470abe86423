"""`model chat` reads the `chat:` section of the config; its flags are that section's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.testing.fake_openai import FakeOpenAIServer


def test_chat_settings_come_from_the_config_and_flags_win(
    fake_teacher: FakeOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"chat:\n  endpoint_url: {fake_teacher.url}\n  max_tokens: 7\n  temperature: 0.5\n")
    assert main(["--config", str(config), "model", "chat", "-q", "hi"]) == 0
    sent = fake_teacher.requests[-1]
    assert (sent["max_tokens"], sent["temperature"]) == (7, 0.5)
    assert main(["--config", str(config), "model", "chat", "-q", "hi", "--max-tokens", "9", "--temperature", "0"]) == 0
    sent = fake_teacher.requests[-1]
    assert (sent["max_tokens"], sent["temperature"]) == (9, 0)
    capsys.readouterr()
