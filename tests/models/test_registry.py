"""Model formats, the model list and name resolution, on small files made in the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.models.default import default_gguf_path
from taxolab.models.formats import detect_format
from taxolab.models.registry import list_models
from taxolab.models.resolve import resolve_model


def make_models(root: Path) -> None:
    (root / "acme" / "tiny").mkdir(parents=True)
    (root / "acme" / "tiny" / "config.json").write_text("{}")
    (root / "acme" / "tiny" / "model.safetensors").write_bytes(b"\0" * 100)
    (root / "acme" / "tiny" / ".cache").mkdir()
    (root / "acme" / "tiny" / ".cache" / "junk").write_bytes(b"\0" * 1000)
    (root / "tiny.Q4_K_M.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    (root / "adapter").mkdir()
    (root / "adapter" / "adapter_config.json").write_text("{}")
    (root / "notes.txt").write_text("not a model")
    (root / "empty").mkdir()


def test_formats(tmp_path: Path) -> None:
    make_models(tmp_path)
    assert detect_format(tmp_path / "acme" / "tiny") == "hf"
    assert detect_format(tmp_path / "tiny.Q4_K_M.gguf") == "gguf"
    assert detect_format(tmp_path / "adapter") == "lora"
    assert detect_format(tmp_path / "notes.txt") is None
    assert detect_format(tmp_path / "empty") is None
    assert detect_format(default_gguf_path()) == "gguf"


def test_list_shows_default_then_the_models_folder(tmp_path: Path) -> None:
    make_models(tmp_path)
    models = list_models(tmp_path)
    assert [m.name for m in models[:2]] == ["default", "default-hf"]
    assert models[0].format == "gguf" and models[0].ready and models[0].size_bytes > 90_000_000
    found = {m.name: m for m in models[2:]}
    assert set(found) == {"acme/tiny", "tiny.Q4_K_M.gguf", "adapter"}
    assert found["acme/tiny"].size_bytes == 102  # the hub's .cache bookkeeping is not counted
    assert found["adapter"].format == "lora"


def test_list_cli_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_models(tmp_path)
    assert main(["model", "list", "--model-dir", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "default" and rows[0]["format"] == "gguf" and rows[0]["ready"] is True
    assert {"name", "format", "size_bytes", "path", "modified"} <= set(rows[0])
    assert main(["model", "list", "--model-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    for text in ("default", "GGUF", "HF folder", "LoRA adapter", "acme/tiny"):
        assert text in table


def test_resolve_references(tmp_path: Path) -> None:
    make_models(tmp_path)
    assert resolve_model("default", tmp_path).path == default_gguf_path()
    assert resolve_model("acme/tiny", tmp_path).format == "hf"
    assert resolve_model("tiny", tmp_path).path == tmp_path / "acme" / "tiny"  # unique last component
    assert resolve_model("tiny.Q4_K_M", tmp_path).format == "gguf"
    assert resolve_model(str(tmp_path / "adapter"), tmp_path).format == "lora"
    with pytest.raises(TaxolabError, match="no model 'missing'"):
        resolve_model("missing", tmp_path)
    with pytest.raises(TaxolabError, match="not a GGUF file"):
        resolve_model(str(tmp_path / "notes.txt"), tmp_path)
