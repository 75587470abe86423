"""`model convert` refuses what it cannot convert, up front, in one line, leaving no file behind.

Issue 12, case 16 (instructlab/instructlab#579): a bitsandbytes 4-bit checkpoint (packed ``U8``
weights, ``quantization_config`` in config.json) ended in the converter's ``KeyError: 'U8'``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.models.convert import check_convertible, convert_to_gguf, tool_error

HIDDEN = 64
LLAMA = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN, "intermediate_size": 128,
    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 32,
}  # fmt: skip
BNB_4BIT = {"quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": False, "bnb_4bit_quant_type": "nf4"}


def packed_checkpoint(folder: Path, quantization_config: dict[str, object] | None) -> Path:
    """A Llama-shaped folder whose q_proj is stored as bitsandbytes does: packed uint8 plus companions."""
    folder.mkdir(parents=True)
    tensors = {
        "model.embed_tokens.weight": np.zeros((32, HIDDEN), dtype=np.float16),
        "model.layers.0.self_attn.q_proj.weight": np.full((HIDDEN * HIDDEN // 2, 1), 0x77, dtype=np.uint8),
        "model.layers.0.self_attn.q_proj.weight.absmax": np.ones(HIDDEN * HIDDEN // 64, dtype=np.float32),
        "model.norm.weight": np.ones(HIDDEN, dtype=np.float16),
    }
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = dict(LLAMA)
    if quantization_config is not None:
        config["quantization_config"] = quantization_config
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_bitsandbytes_4bit_is_refused_before_any_work_and_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = packed_checkpoint(tmp_path / "tiny-llama-bnb-4bit", BNB_4BIT)
    output = tmp_path / "out" / "out.f16.gguf"
    code = main(["model", "convert", "--model-path", str(model), "--outtype", "f16", "--output", str(output)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "Traceback" not in err and "KeyError" not in err
    assert err.startswith(f"error: {model}: weights are stored bitsandbytes 4-bit quantized (")
    assert "quantization_config says bitsandbytes 4-bit" in err and "q_proj.weight is U8" in err
    assert "convert the unquantized model instead" in err and len(err.splitlines()) == 1
    assert not output.exists() and not list(tmp_path.rglob("*.gguf"))


def test_packed_integer_weights_are_refused_even_without_a_quantization_config(tmp_path: Path) -> None:
    model = packed_checkpoint(tmp_path / "stripped", None)
    with pytest.raises(TaxolabError) as caught:
        convert_to_gguf(model, tmp_path / "x.gguf")
    message = str(caught.value)
    assert "integer-packed quantized (model.layers.0.self_attn.q_proj.weight is U8)" in message
    assert "config.json" not in message


@pytest.mark.parametrize(
    ("quant", "named"),
    [({"quant_method": "gptq", "bits": 4}, "GPTQ"), ({"load_in_8bit": True}, "bitsandbytes 8-bit")],
)
def test_other_packed_schemes_are_named(tmp_path: Path, quant: dict[str, object], named: str) -> None:
    model = packed_checkpoint(tmp_path / "m", quant)
    with pytest.raises(TaxolabError, match=f"weights are stored {named} quantized"):
        check_convertible(model)


def test_a_float_checkpoint_passes_the_check(tmp_path: Path) -> None:
    folder = tmp_path / "float"
    folder.mkdir()
    save_file({"model.norm.weight": np.ones(HIDDEN, dtype=np.float32)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(LLAMA))
    check_convertible(folder)


def test_a_converter_failure_shows_its_error_line_not_its_traceback(tmp_path: Path) -> None:
    log = tmp_path / "convert.log"
    log.write_text(
        "INFO:hf-to-gguf:Loading model: tiny\nTraceback (most recent call last):\n"
        "  File \"convert_hf_to_gguf.py\", line 1, in <module>\n    main()\nKeyError: 'U8'\n"
    )
    assert tool_error(log) == "KeyError: 'U8'"
    log.write_text("INFO:hf-to-gguf:Loading model\nERROR:hf-to-gguf:Model FooForCausalLM is not supported\n")
    assert tool_error(log) == "ERROR:hf-to-gguf:Model FooForCausalLM is not supported"
