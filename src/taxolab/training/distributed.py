"""torch.distributed plumbing: who am I, wrap the model, sum numbers across ranks.

One process (no process group) is the common CPU case and must not pay for
distribution; under torchrun the environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``) says how many we are. NCCL on GPUs, gloo on CPU, so the
multi-process path runs (and is tested) on a 2-core machine too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, cast

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    local_world_size: int = 1
    """Processes of this job on this machine (torchrun's ``LOCAL_WORLD_SIZE``): they share its cores and memory."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device_type: str) -> DistEnv:
    """Join the process group torchrun set up (if any) and pick this rank's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(
            "nccl" if device_type == "cuda" else "gloo", device_id=device if device_type == "cuda" else None
        )
    return DistEnv(rank, world_size, local_rank, device, local_world_size)


def wrap_model(model: nn.Module, env: DistEnv, mode: Literal["fsdp", "ddp"]) -> nn.Module:
    """FSDP2 (each transformer block sharded, then the root) or DDP; unchanged for one process."""
    if not env.distributed:
        return model
    if mode == "ddp":
        ids = [env.device.index] if env.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh(env.device.type, (env.world_size,))
    block_names = set(getattr(_inner_model(model), "_no_split_modules", None) or [])
    for module in model.modules():
        if type(module).__name__ in block_names:
            fully_shard(module, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model


def _inner_model(model: nn.Module) -> nn.Module:
    """The transformers model under a peft wrapper, if any."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def sum_across(values: list[float], env: DistEnv) -> list[float]:
    """Element-wise sum over all ranks (the identity for one process)."""
    if not env.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=env.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def no_grad_sync(model: nn.Module, env: DistEnv, sync: bool) -> None:
    """Skip the gradient all-reduce on all but the last backward of a step (accumulation)."""
    if not env.distributed:
        return
    if isinstance(model, nn.parallel.DistributedDataParallel):
        model.require_backward_grad_sync = sync
    elif hasattr(model, "set_requires_gradient_sync"):  # FSDP2 module
        cast(Any, model).set_requires_gradient_sync(sync)
