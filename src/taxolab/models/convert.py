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

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from taxolab import fsio
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
    if fmt == "hf":
        check_convertible(model_path)
    output = Path(output).expanduser()
    with fsio.writing(output, elsewhere="--output"), _converting(output) as scratch:
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


@contextlib.contextmanager
def _converting(output: Path) -> Iterator[Path]:
    """A scratch folder beside ``output`` (same disk, so the finished file is renamed into place), removed after."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".convert-", dir=output.parent) as scratch_name:
        yield Path(scratch_name)


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


# Quantisation schemes whose packed integer weights llama.cpp's converter cannot read back to floats.
_PACKED_METHODS = {"bitsandbytes": "bitsandbytes", "awq": "AWQ", "gptq": "GPTQ", "hqq": "HQQ", "quanto": "quanto"}
_INT_DTYPES = frozenset({"U8", "I8", "U16", "I16", "U32", "I32", "U4", "I4"})


def check_convertible(model_path: Path) -> None:
    """Refuse, in one line and before any work, an HF folder whose weights are stored quantized.

    A checkpoint trained or saved with bitsandbytes (4-bit NF4/FP4 or 8-bit),
    GPTQ, AWQ, ... holds packed integer tensors (``U8``/``I8``/``I32``) with scale
    companions, which the GGUF converter cannot turn back into floats
    (instructlab/instructlab#579 ended in ``KeyError: 'U8'``). Signs, read
    without loading any weight: ``quantization_config`` in ``config.json``, or
    an integer-typed ``*.weight`` tensor in a safetensors header.
    Raises :class:`TaxolabError` naming the folder, the scheme and what to convert instead.
    """
    method = _quantization_method(model_path)
    int_weights = _integer_weights(model_path)
    if method is None and not int_weights:
        return
    evidence = [f"config.json quantization_config says {method}"] if method else []
    evidence += [f"{int_weights[0][0]} is {int_weights[0][1]}"] if int_weights else []
    raise TaxolabError(
        f"{model_path}: weights are stored {method or 'integer-packed'} quantized ({'; '.join(evidence)}), "
        "which cannot be converted to GGUF; convert the unquantized model instead (the full-precision base, "
        "or a LoRA adapter merged into it), then choose --outtype for a smaller GGUF"
    )


def _quantization_method(model_path: Path) -> str | None:
    """``bitsandbytes 4-bit``, ``GPTQ``, ... from ``config.json``'s ``quantization_config`` (None: not quantized)."""
    try:
        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    quant = config.get("quantization_config") if isinstance(config, dict) else None
    if not isinstance(quant, dict):
        return None
    method = str(quant.get("quant_method") or "").lower()
    if method == "bitsandbytes" or quant.get("load_in_4bit") or quant.get("load_in_8bit"):
        bits = "4-bit" if quant.get("load_in_4bit") else "8-bit" if quant.get("load_in_8bit") else ""
        return f"bitsandbytes {bits}".strip()
    if method in _PACKED_METHODS:
        return _PACKED_METHODS[method]
    return None  # fp8, compressed-tensors, ...: llama.cpp may read them; its own error is reported otherwise


def _integer_weights(model_path: Path) -> list[tuple[str, str]]:
    """``(tensor name, dtype)`` of integer-typed ``*.weight`` tensors, from the safetensors headers only."""
    from safetensors import SafetensorError, safe_open

    found: list[tuple[str, str]] = []
    for shard in sorted(model_path.glob("*.safetensors")):
        try:
            with safe_open(str(shard), framework="numpy") as handle:
                for name in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
                    if name.endswith(".weight"):
                        dtype = handle.get_slice(name).get_dtype()
                        if dtype in _INT_DTYPES:
                            found.append((name, dtype))
        except (SafetensorError, OSError):
            continue  # an unreadable shard is for the converter to report
    return found


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
    _run(argv, log, env, f"converting {source} to GGUF failed", target)


def _run_quantize(source: Path, target: Path, outtype: str, log: Path) -> None:
    binary = llama_quantize_binary()
    if binary is None:
        raise TaxolabError(f"llama-quantize is not installed (needed for {outtype}): run ./scripts/setup")
    _run([str(binary), str(source), str(target), outtype.upper()], log, None, f"quantizing to {outtype} failed", target)


def _run(argv: list[str], log: Path, env: dict[str, str] | None, what: str, target: Path) -> None:
    """Run a llama.cpp tool writing ``target``; on failure, one line with its own error (not its traceback) and
    where the log is kept, or a :class:`~taxolab.fsio.WriteError` when the tool could not write."""
    with log.open("wb") as handle:
        done = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False)
    if done.returncode != 0:
        refused = fsio.write_error(TaxolabError(tool_error(log)), target)
        if refused is not None:  # the disk filled (or the folder is read-only): say so, not "conversion failed"
            raise refused
        kept = paths.cache_dir() / "logs" / f"{log.stem}-{os.getpid()}.log"
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(log.read_bytes())
            where = f"; full log: {kept}"
        except OSError:
            where = ""
        raise TaxolabError(f"{what} (exit {done.returncode}): {tool_error(log)}{where}")


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Interrupt)\b:?.*$")


def tool_error(log: Path) -> str:
    """The line of a tool's output that says what went wrong: a Python exception's last line
    (``KeyError: 'U8'``, not the traceback above it), else a line with ``error``, else the last lines."""
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return "no output"
    lines = [line for line in lines if line]
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return line
    for line in reversed(lines):
        if "error" in line.lower():
            return line
    return tail_lines(log, 2) or "no output"


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
    check_convertible(base_path)
    try:
        base = AutoModelForCausalLM.from_pretrained(str(base_path), dtype="auto")
        merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        # transformers/peft say why in their last line (shape mismatch, missing file): keep that, drop the stack
        reason = " ".join(str(exc).split())[:300]
        raise TaxolabError(
            f"{adapter}: cannot merge this LoRA adapter into {base_path} ({type(exc).__name__}: {reason}); "
            "check that base_model_name_or_path names the model it was trained from"
        ) from None
    merged.save_pretrained(target, safe_serialization=True)
    tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else base_path
    AutoTokenizer.from_pretrained(str(tokenizer_source)).save_pretrained(target)
    return target
