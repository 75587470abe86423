"""HF folder -> GGUF with llama.cpp's converter: the served GGUF answers like the HF model."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

from taxolab.cli.main import main
from taxolab.errors import TaxolabError
from taxolab.llm.server import start_server
from taxolab.models.convert import convert_to_gguf
from taxolab.models.formats import GGUF_MAGIC

pytestmark = pytest.mark.slow
PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time, there was a little", "1, 2, 3, 4,"]
NEW_TOKENS = 8


def hf_greedy(model_dir: Path) -> list[tuple[list[int], list[int]]]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    results = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False, pad_token_id=tokenizer.eos_token_id)
        results.append((ids[0].tolist(), out[0, ids.shape[1] :].tolist()))
    return results


def test_f16_gguf_generates_what_the_hf_model_generates(default_hf_model: Path, tmp_path: Path) -> None:
    done = convert_to_gguf(default_hf_model, tmp_path / "smol.F16.gguf", outtype="f16")
    assert done.output.read_bytes()[:4] == GGUF_MAGIC
    expected = hf_greedy(default_hf_model)
    with start_server(done.output, ctx_size=256, parallel=1) as server, httpx.Client(timeout=120) as http:
        for prompt_ids, hf_tokens in expected:
            # Token ids in, token ids out: no tokenizer difference can hide or fake a mismatch.
            body = {"prompt": prompt_ids, "n_predict": NEW_TOKENS, "temperature": 0, "return_tokens": True}
            answer = http.post(server.root_url + "/completion", json=body).json()
            assert answer["tokens"] == hf_tokens, (prompt_ids, answer.get("content"))


def test_cli_quantized_conversion_lands_in_the_models_folder(
    default_hf_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["model", "convert", "--model-path", str(default_hf_model), "--outtype", "q4_k_m"]
    assert main([*args, "--model-dir", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    output = Path(result["output"])
    assert output == tmp_path / "SmolLM2-135M-Instruct.Q4_K_M.gguf"
    assert output.read_bytes()[:4] == GGUF_MAGIC and result["size_bytes"] < 150_000_000  # f16 is ~270 MB
    assert main(["model", "list", "--model-dir", str(tmp_path), "--json"]) == 0
    assert "SmolLM2-135M-Instruct.Q4_K_M.gguf" in [row["name"] for row in json.loads(capsys.readouterr().out)]


def test_lora_adapter_is_merged_before_conversion(default_hf_model: Path, tmp_path: Path) -> None:
    """A tiny random model with the real tokenizer, plus a LoRA adapter with non-zero weights."""
    from gguf import GGUFReader
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
    )  # fmt: skip
    base_dir = tmp_path / "base"
    LlamaForCausalLM(config).save_pretrained(base_dir)
    AutoTokenizer.from_pretrained(default_hf_model).save_pretrained(base_dir)
    peft_model = get_peft_model(
        LlamaForCausalLM.from_pretrained(base_dir), LoraConfig(r=4, lora_alpha=8, target_modules=["v_proj"])
    )
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.5)
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    expected = peft_model.merge_and_unload().model.layers[0].self_attn.v_proj.weight.detach().numpy()

    done = convert_to_gguf(adapter_dir, tmp_path / "merged.gguf", outtype="f32")
    tensors = {t.name: t for t in GGUFReader(done.output).tensors}
    merged = np.asarray(tensors["blk.0.attn_v.weight"].data).reshape(expected.shape)
    np.testing.assert_allclose(merged, expected, rtol=1e-5, atol=1e-6)


def test_refuses_what_it_cannot_convert(tmp_path: Path) -> None:
    (tmp_path / "x.gguf").write_bytes(GGUF_MAGIC + b"\0" * 8)
    with pytest.raises(TaxolabError, match="already a GGUF"):
        convert_to_gguf(tmp_path / "x.gguf", tmp_path / "y.gguf")
    with pytest.raises(TaxolabError, match="unknown --outtype"):
        convert_to_gguf(tmp_path, tmp_path / "y.gguf", outtype="q1")
