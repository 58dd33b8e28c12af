"""Data-parallel training under torchrun (DistributedDataParallel).

`torchrun --nproc-per-node N -m pnetc train ...` starts N copies of `pnetc train` with
WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT set. The training loop asks
`join()` for a `World`; without WORLD_SIZE > 1 it gets a single-process World whose every
method is the identity, so plain `pnetc train` runs exactly as before (same bytes).

With N > 1:
* backend gloo on CPU, nccl on CUDA (each rank then uses cuda:LOCAL_RANK);
* the models are wrapped in DDP for the training step only (gradients are averaged over the
  ranks in backward); evaluation, calibration and export use the plain modules;
* each epoch's sample order comes from a DistributedSampler seeded with --seed and
  `set_epoch(epoch)`: every rank sees a disjoint 1/N share (padded to equal length, so all
  ranks run the same number of steps). --batch-size is per process, so the effective batch
  is N x --batch-size;
* the epoch's loss/accuracy sums are all-reduced, so every rank logs the global figures;
* only rank 0 shows progress, writes the checkpoint and the ONNX files, and prints; the
  other ranks' stdout goes to /dev/null (their errors still reach stderr);
* the result of rank 0 gains `world_size` and `rank_checksums`: a SHA-256 of every rank's
  final parameters (all_gather_object), which must all be equal.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch import nn

from pnetc.errors import PnetcError


@dataclass
class World:
    """This process's place in the (possibly single-process) training job."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # we initialised the process group, so we tear it down
    _sampler: Any = field(default=None, repr=False)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module) -> nn.Module:
        """The module to call in the training step: DDP-wrapped when distributed."""
        if not self.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def num_steps(self, n: int, batch_size: int) -> int:
        """Optimizer steps per epoch on this rank (every rank gets the same count)."""
        local = -(-n // self.world_size)  # DistributedSampler pads to ceil(n / N) per rank
        return -(-local // batch_size)

    def epoch_order(self, order: torch.Tensor, epoch: int, seed: int) -> torch.Tensor:
        """This rank's sample indices for the epoch: `order` itself when single-process,
        else this rank's share from a seeded DistributedSampler."""
        if not self.distributed:
            return order
        from torch.utils.data import DistributedSampler

        n = len(order)
        if self._sampler is None or len(self._sampler.dataset) != n:
            self._sampler = DistributedSampler(
                range(n), num_replicas=self.world_size, rank=self.rank, shuffle=True, seed=seed, drop_last=False
            )
        self._sampler.set_epoch(epoch)
        return torch.tensor(list(self._sampler), dtype=torch.int64)

    def sum_metrics(self, *values: float) -> tuple:
        """Sum per-rank epoch totals (loss * samples, correct, seen) over all ranks."""
        if not self.distributed:
            return values
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return tuple(type(v)(x) for v, x in zip(values, t.cpu().tolist()))

    def finish(self, export: Callable[[], dict], history: list[dict], *modules: nn.Module) -> dict:
        """Gather every rank's parameter checksum, let rank 0 export, tear the group down.

        Rank 0 returns the full result plus world_size, rank_checksums and the per-epoch
        history; the other ranks return a small dict (their stdout is muted anyway).
        """
        checksum = parameter_checksum(*modules)
        if self.distributed:
            checksums: list = [None] * self.world_size
            dist.all_gather_object(checksums, checksum)
        else:
            checksums = [checksum]
        try:
            if self.is_main:
                result = export()
            else:
                result = {"rank": self.rank}
            result["world_size"] = self.world_size
            result["rank_checksums"] = checksums
            result["history"] = history
            return result
        finally:
            self.close()

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False

    def _comm_device(self) -> torch.device:
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")


def parameter_checksum(*modules: nn.Module) -> str:
    """SHA-256 of the exact bytes of every parameter and buffer, in state_dict order."""
    h = hashlib.sha256()
    for module in modules:
        for name, tensor in module.state_dict().items():
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise PnetcError(f"environment variable {name} must be an integer, got {value!r}") from None


def join(device: torch.device) -> World:
    """The World for this process: single-process unless WORLD_SIZE > 1 (torchrun).

    `device` is the device the user asked for (already resolved from --device). Under
    torchrun with CUDA, each rank takes cuda:LOCAL_RANK.
    """
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return World(device=device)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise PnetcError(
                f"LOCAL_RANK {local_rank} has no GPU (this machine has {torch.cuda.device_count()}); "
                "use fewer processes per node or --device cpu"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = False
    if not dist.is_initialized():
        for var in ("MASTER_ADDR", "MASTER_PORT"):
            if not os.environ.get(var):
                raise PnetcError(f"WORLD_SIZE={world_size} but {var} is not set; start the job with torchrun")
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        owns = True
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if rank != 0:
        sys.stdout = open(os.devnull, "w")  # only rank 0 prints (progress, summary, --json)
    return World(device=device, rank=rank, world_size=world_size, owns_group=owns)
