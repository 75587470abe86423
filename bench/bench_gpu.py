"""GPU proof of the training paths CI cannot run: bf16 packed training, padding-free equivalence, FSDP2 over NCCL.

Run in two steps, because the GPU machine has no network and no copy of the
default model's weights:

    .venv/bin/python bench/bench_gpu.py --prepare gpu_assets     # here: config + tokenizer (no weights)
    python3 bench/bench_gpu.py --assets gpu_assets --out OUT      # on the GPU machine

On the GPU machine it builds a random-weight model with the default model's
architecture (SmolLM2-135M: the shapes, not the weights, decide speed), then:

1. padding-free packing: the summed loss of 8 samples packed into one row
   (``position_ids`` restarting at 0) against the same samples one per forward,
   under bf16 autocast, with the attention kernel the trainer picks;
2. ``taxolab.training.api.train`` on ~1,000 mixed-length samples, bf16, packed
   rows of 16,384 tokens: trained tokens/s and the model FLOP utilisation
   against a bf16 matmul measured in the same run (the peer);
3. the same training through taxolab's FSDP2 path on a one-rank NCCL process
   group (one GPU is lent here, and NCCL refuses two ranks on one GPU), whose
   loss curve must follow the plain run's.

Prints one JSON summary and writes it to ``OUT/gpu_check.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

WORDS = [f"w{i}" for i in range(3000)]


def prepare(folder: Path) -> None:
    """Copy the default model's config and tokenizer (a few MB, no weights) into ``folder``."""
    from taxolab.models.default import default_hf_dir

    source = default_hf_dir(prepare=True)
    folder.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.suffix != ".safetensors" and item.is_file():
            shutil.copy(item, folder / item.name)
    print(f"assets in {folder}: {sorted(p.name for p in folder.iterdir())}")


def make_model(assets: Path, folder: Path, *, smoke: bool = False) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(assets))
    if smoke:  # a 2-layer model of the same family, to check this script on a CPU
        config.update({"num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128,
                       "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16})  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(str(folder))
    for item in assets.iterdir():
        if item.name != "config.json" and not item.name.startswith(("model", "generation")):
            shutil.copy(item, folder / item.name)
    return folder


def write_data(path: Path, count: int, seed: int, most: int = 840) -> Path:
    """Chat samples of 40-900 words (roughly 100-2,500 tokens), the spread of a knowledge mix."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(count):
            question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
            answer = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, most)))
            row = {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
            handle.write(json.dumps(row) + "\n")
    return path


def matmul_tflops() -> float:
    """bf16 8192^3 matmul rate on this GPU (the peer for utilisation)."""
    import torch

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    return 2 * 8192**3 * 10 / (time.perf_counter() - start) / 1e12


def packing_check(model_dir: Path, data: Path, device_type: str = "cuda") -> dict[str, Any]:
    import torch

    from taxolab.training.dataset import load_tokenizer
    from taxolab.training.loss import row_loss_sum
    from taxolab.training.model_io import load_model, resolve_hardware
    from taxolab.training.packing import collate_row
    from taxolab.training.settings import TrainSettings
    from taxolab.training.tokenize import tokenize_sample

    settings = TrainSettings()
    hardware = resolve_hardware(settings)
    tokenizer = load_tokenizer(model_dir)
    rows = [json.loads(line) for line in data.read_text().splitlines()[:8]]
    samples = [tokenize_sample(tokenizer, row) for row in rows]
    device = torch.device(device_type)
    model = load_model(model_dir, settings, hardware).to(device).eval()
    with torch.no_grad(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=device_type == "cuda"):
        alone = sum(float(row_loss_sum(model, collate_row([s]), device)) for s in samples)
        packed = float(row_loss_sum(model, collate_row(samples), device))
        # The negative control: the same row with positions running on, so attention crosses samples.
        row = collate_row(samples)
        running = torch.arange(row.input_ids.shape[1]).unsqueeze(0)
        crossed = float(row_loss_sum(model, dataclasses.replace(row, position_ids=running), device))
    return {
        "attention": hardware.attention,
        "tokens": sum(len(s.input_ids) for s in samples),
        "loss_sum_one_per_forward": alone,
        "loss_sum_packed": packed,
        "relative_difference": abs(packed - alone) / alone,
        "loss_sum_positions_not_restarted": crossed,
    }


def run_training(model_dir: Path, data: Path, out: Path, *, fsdp: bool) -> dict[str, Any]:
    from taxolab.training import distributed
    from taxolab.training.api import train
    from taxolab.training.metrics import read_metrics
    from taxolab.training.settings import TrainSettings

    settings = TrainSettings(effective_batch_size=64, learning_rate=2e-4, epochs=1, validation_split=0.0,
                             max_seq_len=4096)  # fmt: skip
    restore = distributed.DistEnv.distributed
    if fsdp:
        import torch
        import torch.distributed as dist

        os.environ.update({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                           "MASTER_PORT": "29511"})  # fmt: skip
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo", rank=0, world_size=1)
        # One GPU: force taxolab's distributed path (FSDP2 wrap, NCCL all-reduce, gradient-sync toggles)
        # on a one-rank group; the sharding code and collectives are the ones a multi-GPU job runs.
        distributed.DistEnv.distributed = property(lambda self: True)  # type: ignore[method-assign,assignment]
    start = time.perf_counter()
    try:
        result = train(data, model_path=model_dir, output_dir=out, settings=settings, show_progress=False)
    finally:
        distributed.DistEnv.distributed = restore  # type: ignore[method-assign]
        if fsdp:
            import torch.distributed as dist

            dist.destroy_process_group()
    wall = time.perf_counter() - start
    rows = read_metrics(result.phases[0].metrics_file)
    tokens = sum(r["tokens"] for r in rows)
    steady = rows[2:] or rows
    steady_rate = sum(r["tokens"] for r in steady) / sum(r["tokens"] / r["tokens_per_s"] for r in steady)
    return {"wall_s": wall, "steps": len(rows), "tokens": tokens, "tokens_per_s_steady": steady_rate,
            "losses": [round(r["loss"], 4) for r in rows]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", type=Path, help="write config + tokenizer here and stop (run on the dev machine)")
    parser.add_argument("--assets", type=Path, help="folder written by --prepare")
    parser.add_argument("--out", type=Path, default=Path("gpu-out"))
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--smoke", action="store_true", help="check this script on a CPU with a 2-layer model")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
        return 0
    import torch

    if not torch.cuda.is_available() and not args.smoke:
        print("no CUDA GPU here: this benchmark only runs on a GPU machine")
        return 1
    work = Path("/tmp/taxolab-gpu")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.setdefault("TAXOLAB_DATA_DIR", str(work / "data"))
    os.environ.setdefault("TAXOLAB_CACHE_DIR", str(work / "cache"))
    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    summary: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0) if device_type == "cuda" else "none (smoke)",
                               "torch": torch.__version__}  # fmt: skip
    import transformers

    summary["transformers"] = transformers.__version__
    model_dir = make_model(args.assets, work / "model", smoke=args.smoke)
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(model_dir))
    data = write_data(work / "mix.jsonl", args.samples, seed=1, most=60 if args.smoke else 840)
    summary["packing"] = packing_check(model_dir, data, device_type)
    print(json.dumps({"packing": summary["packing"]}), flush=True)
    peak = matmul_tflops() if device_type == "cuda" else 1.0
    summary["bf16_matmul_tflops"] = peak
    plain = run_training(model_dir, data, work / "plain", fsdp=False)
    print(json.dumps({"plain": {k: v for k, v in plain.items() if k != "losses"}}), flush=True)
    fsdp = run_training(model_dir, data, work / "fsdp", fsdp=True)
    print(json.dumps({"fsdp": {k: v for k, v in fsdp.items() if k != "losses"}}), flush=True)
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        params = sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())
    seq = 1024  # typical sample length in this mix, for the attention term
    flops_per_token = 6 * params + 12 * config.num_hidden_layers * config.hidden_size * seq
    for run in (plain, fsdp):
        run["model_tflops"] = run["tokens_per_s_steady"] * flops_per_token / 1e12
        run["utilisation_vs_matmul"] = run["model_tflops"] / peak
    summary.update(plain=plain, fsdp=fsdp, params=params, flops_per_token=flops_per_token)
    first = min(len(plain["losses"]), len(fsdp["losses"]))
    summary["fsdp_vs_plain_max_loss_diff"] = max(
        abs(a - b) for a, b in zip(plain["losses"][:first], fsdp["losses"][:first], strict=True)
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("plain", "fsdp")}, indent=2))
    for name in ("plain", "fsdp"):
        run = summary[name]
        print(f"{name}: {run['tokens_per_s_steady']:,.0f} trained tok/s, {run['model_tflops']:.1f} TFLOP/s = "
              f"{run['utilisation_vs_matmul']:.2f} of the bf16 matmul peer ({peak:.0f} TFLOP/s), "
              f"loss {run['losses'][0]} -> {run['losses'][-1]} in {run['steps']} steps")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
