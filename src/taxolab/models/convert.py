"""HF model folder (a trained checkpoint, or a LoRA adapter merged into its base) -> GGUF for llama.cpp.

llama.cpp's own converter (``convert_hf_to_gguf.py`` in the vendored source)
writes f32/f16/bf16/q8_0 directly; other quantisations (Q4_K_M, ...) are made
from the f16 file with ``llama-quantize``. The converter runs with this venv's
Python and the vendored ``gguf-py`` first on ``PYTHONPATH``, so converter and
``gguf`` library come from the same llama.cpp commit. Outputs are written to a
temporary name and renamed, so a failed conversion leaves nothing that looks
like a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taxolab.config import paths
from taxolab.errors import TaxolabError
from taxolab.llm.binaries import llama_cpp_source_dir, llama_quantize_binary
from taxolab.llm.process import tail_lines
from taxolab.models.formats import detect_format, model_name

DIRECT_TYPES = ("f32", "f16", "bf16", "q8_0")
QUANTIZE_TYPES = ("q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k_m", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k")
OUTTYPES = DIRECT_TYPES + QUANTIZE_TYPES


@dataclass(frozen=True)
class Converted:
    source: Path
    output: Path
    outtype: str
    size_bytes: int


def default_output(model_path: Path, outtype: str, models_dir: Path) -> Path:
    """``<models_dir>/<name>.<OUTTYPE>.gguf``, where ``model list`` and ``--model-path NAME`` find it."""
    return Path(models_dir) / f"{model_name(model_path)}.{outtype.upper()}.gguf"


def convert_to_gguf(
    model_path: Path,
    output: Path,
    *,
    outtype: str = "f16",
    resolve_base: Callable[[str], Path] | None = None,
) -> Converted:
    """Write ``model_path`` as a GGUF of ``outtype`` to ``output``.

    A LoRA adapter is first merged into its base model, found with
    ``resolve_base(base_model_name_or_path)`` (default: that path as is).
    """
    outtype = outtype.lower()
    if outtype not in OUTTYPES:
        raise TaxolabError(f"unknown --outtype {outtype!r}: choose one of {', '.join(OUTTYPES)}")
    model_path = Path(model_path).expanduser()
    fmt = detect_format(model_path)
    if fmt == "gguf":
        raise TaxolabError(f"{model_path} is already a GGUF file")
    if fmt is None:
        raise TaxolabError(f"{model_path}: not an HF model folder (config.json and weights) or a LoRA adapter")
    output = Path(output).expanduser()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".convert-", dir=output.parent) as scratch_name:
        scratch = Path(scratch_name)
        source = _merge_lora(model_path, scratch / "merged", resolve_base) if fmt == "lora" else model_path
        direct = outtype in DIRECT_TYPES
        first = scratch / ("model.gguf" if direct else "model.f16.gguf")
        _run_converter(source, first, outtype if direct else "f16", scratch / "convert.log")
        if direct:
            first.replace(output)
        else:
            quantized = scratch / "model.quantized.gguf"
            _run_quantize(first, quantized, outtype, scratch / "quantize.log")
            quantized.replace(output)
    return Converted(model_path, output, outtype, output.stat().st_size)


def convert_model(ref: str, models_dir: Path, *, outtype: str = "f16", output: Path | None = None) -> Converted:
    """``taxolab model convert``: resolve ``ref`` (path or name), convert it, into the models folder by default."""
    from taxolab.models.resolve import resolve_model

    resolved = resolve_model(ref, models_dir, prefer="hf")
    target = output or default_output(resolved.path, outtype, models_dir)
    return convert_to_gguf(
        resolved.path,
        target,
        outtype=outtype,
        resolve_base=lambda base: resolve_model(base, models_dir, prefer="hf").path,
    )


def ensure_gguf(model_path: Path, outtype: str = "f16") -> Path:
    """A GGUF of ``model_path`` converted once and cached, so llama.cpp can serve an HF folder.

    The cache key covers the folder's path and its files' sizes and times, so a
    checkpoint rewritten in place is converted again.
    """
    model_path = Path(model_path).expanduser().resolve()
    if detect_format(model_path) == "gguf":
        return model_path
    stamp = hashlib.sha256(str(model_path).encode())
    for item in sorted(
        p for p in model_path.rglob("*") if p.is_file() and ".cache" not in p.relative_to(model_path).parts
    ):
        info = item.stat()
        stamp.update(f"{item.relative_to(model_path)}:{info.st_size}:{info.st_mtime_ns}".encode())
    target = paths.cache_dir() / "gguf" / f"{model_name(model_path)}-{stamp.hexdigest()[:12]}.{outtype.upper()}.gguf"
    if not target.is_file():
        convert_to_gguf(model_path, target, outtype=outtype)
    return target


def _run_converter(source: Path, target: Path, outtype: str, log: Path) -> None:
    llama_dir = llama_cpp_source_dir()
    if llama_dir is None:
        raise TaxolabError(
            "llama.cpp's convert_hf_to_gguf.py was not found (set TAXOLAB_LLAMA_CPP_DIR or run ./scripts/setup)"
        )
    env = dict(os.environ)
    gguf_py = llama_dir / "gguf-py"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(gguf_py), env.get("PYTHONPATH", "")) if p)
    argv = [sys.executable, str(llama_dir / "convert_hf_to_gguf.py"), str(source)]
    argv += ["--outfile", str(target), "--outtype", outtype]
    _run(argv, log, env, f"converting {source} to GGUF failed")


def _run_quantize(source: Path, target: Path, outtype: str, log: Path) -> None:
    binary = llama_quantize_binary()
    if binary is None:
        raise TaxolabError(f"llama-quantize is not installed (needed for {outtype}): run ./scripts/setup")
    _run([str(binary), str(source), str(target), outtype.upper()], log, None, f"quantizing to {outtype} failed")


def _run(argv: list[str], log: Path, env: dict[str, str] | None, what: str) -> None:
    with log.open("wb") as handle:
        done = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False)
    if done.returncode != 0:
        raise TaxolabError(f"{what} (exit {done.returncode}): {tail_lines(log, 4)}")


def _merge_lora(adapter: Path, target: Path, resolve_base: Callable[[str], Path] | None) -> Path:
    """Merge a peft LoRA adapter into its base model, saved as a full HF folder at ``target``."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    base_ref = config.get("base_model_name_or_path")
    if not base_ref:
        raise TaxolabError(f"{adapter}/adapter_config.json names no base model (base_model_name_or_path)")
    base_path = resolve_base(base_ref) if resolve_base else Path(base_ref)
    if detect_format(base_path) != "hf":
        raise TaxolabError(f"{adapter}: its base model {base_ref!r} is not a local HF folder; download it first")
    base = AutoModelForCausalLM.from_pretrained(str(base_path), dtype="auto")
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(target, safe_serialization=True)
    tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else base_path
    AutoTokenizer.from_pretrained(str(tokenizer_source)).save_pretrained(target)
    return target
