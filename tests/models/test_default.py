"""The packaged default model: found without importing its package, converted once to an HF folder."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.models.default import DEFAULT_GGUF_FILE, default_gguf_path, default_hf_dir
from taxolab.models.formats import GGUF_MAGIC


def test_gguf_is_found_in_the_wheel() -> None:
    path = default_gguf_path()
    assert path.name == DEFAULT_GGUF_FILE and path.read_bytes()[:4] == GGUF_MAGIC


@pytest.mark.slow
def test_prepare_default_converts_once_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("TAXOLAB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(TaxolabError, match="taxolab model prepare-default"):
        default_hf_dir(prepare=False)
    assert main(["model", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["default"]["ready"] and not rows["default-hf"]["ready"]

    assert main(["model", "prepare-default", "--quiet", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["converted"] is True
    folder = Path(first["hf_dir"])
    assert folder == tmp_path / "cache" / "models" / "SmolLM2-135M-Instruct"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    staging = [p for p in folder.parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]
    assert not staging  # an interrupted or finished conversion leaves no half folder

    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n") and tokenizer.model_max_length == 8192
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert getattr(model.config, "quantization_config", None) is None
    assert next(model.parameters()).requires_grad

    assert main(["model", "prepare-default", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["converted"] is False
    assert main(["model", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["default-hf"]["ready"] and rows["default-hf"]["size_bytes"] > 400_000_000
