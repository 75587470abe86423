"""`model download` against a stand-in for the remote hub on 127.0.0.1, and offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import constants

from taxolab.cli.main import main

from .fake_hub import FakeHub

REPOS = {
    "acme/tiny": {
        "config.json": b'{"model_type": "llama"}',
        "model.safetensors": b"\0" * 2048,
        "docs/README.md": b"hi",
    },
    "acme/tiny-gguf": {"tiny.Q8_0.gguf": b"GGUF" + b"\0" * 128, "other.gguf": b"GGUF"},
}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """The stand-in hub, reached through HF_ENDPOINT like a mirror would be; online mode for this test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    with FakeHub(REPOS) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_download_whole_repository(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["model", "download", "acme/tiny", "--model-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    target = tmp_path / "acme" / "tiny"
    assert result["path"] == str(target) and result["format"] == "hf"
    assert (target / "model.safetensors").read_bytes() == REPOS["acme/tiny"]["model.safetensors"]
    assert (target / "docs" / "README.md").read_text() == "hi"
    assert main(["model", "list", "--model-dir", str(tmp_path), "--json"]) == 0
    assert "acme/tiny" in [row["name"] for row in json.loads(capsys.readouterr().out)]


def test_download_one_file_at_a_revision(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["model", "download", "acme/tiny-gguf", "--filename", "tiny.Q8_0.gguf", "--revision", "main"]
    assert main([*args, "--model-dir", str(tmp_path)]) == 0
    assert "downloaded acme/tiny-gguf (GGUF)" in capsys.readouterr().err
    assert (tmp_path / "acme" / "tiny-gguf" / "tiny.Q8_0.gguf").is_file()
    assert not (tmp_path / "acme" / "tiny-gguf" / "other.gguf").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme/none"], "no such repository"),
        (["acme/tiny", "--revision", "v9"], "revision 'v9' not found"),
        (["acme/tiny-gguf", "--filename", "nope.gguf"], "no file 'nope.gguf'"),
        (["not-a-repo"], "expected ORG/NAME"),
    ],
)
def test_download_errors_are_one_line(
    hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["model", "download", *args, "--model-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_offline_download_fails_with_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # conftest sets HF_HUB_OFFLINE=1 for every test
    assert main(["model", "download", "acme/tiny", "--model-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "offline mode is on (HF_HUB_OFFLINE is set)" in err and len(err.strip().splitlines()) == 1


def test_unreachable_hub_fails_with_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taxolab.llm.process import free_port

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    assert main(["model", "download", "acme/tiny", "--model-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "the hub is not reachable" in err and len(err.strip().splitlines()) == 1
