"""LoRA checkpoints: the merged full model computes what the adapter model computes."""

from __future__ import annotations

from pathlib import Path

import torch

from taxolab.training.checkpoint import export_hf
from taxolab.training.distributed import DistEnv
from taxolab.training.model_io import load_model, resolve_hardware
from taxolab.training.settings import TrainSettings


def test_merged_checkpoint_equals_adapter_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    settings = TrainSettings(method="lora", lora_rank=4, lora_alpha=8, lora_dropout=0.0)
    torch.manual_seed(0)
    model = load_model(tiny_model_dir, settings, resolve_hardware(settings)).eval()
    with torch.no_grad():  # LoRA starts as a no-op (B = 0): give it a real effect
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    ids = torch.randint(0, 5000, (2, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        adapter_logits = model(input_ids=ids).logits
        with model.disable_adapter():
            base_logits = model(input_ids=ids).logits
    out = tmp_path / "checkpoint"
    export_hf(model, out, base_dir=tiny_model_dir, settings=settings, env=DistEnv(0, 1, 0, torch.device("cpu")),
              trainer_state={"step": 0})  # fmt: skip

    merged = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32).eval()
    reloaded_adapter = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.float32), str(out / "adapter")
    ).eval()
    with torch.no_grad():
        torch.testing.assert_close(merged(input_ids=ids).logits, adapter_logits, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(reloaded_adapter(input_ids=ids).logits, adapter_logits, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(base_logits, adapter_logits, atol=1e-3)
        # Exporting must not merge into the live training model.
        torch.testing.assert_close(model(input_ids=ids).logits, adapter_logits)
    assert merged.config.tie_word_embeddings
    assert (out / "tokenizer.json").exists() and (out / "trainer_state.json").exists()
