"""Data-parallel training: `torchrun --nproc-per-node 2 -m pnetc train` on 2 CPU processes (gloo)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from pnetc.training.distributed import World, join, parameter_checksum


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_ranks_identical_weights_and_falling_loss(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "torch.distributed.run",  # the torchrun console script, without relying on PATH
        "--nproc-per-node", "2", "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
        "-m", "pnetc", "train", "--dataset", "digits", "--out", str(out),
        "--epochs", "4", "-T", "4", "-d", "8", "--fc", "16", "--seed", "3", "--json",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]

    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"only rank 0 may print: {proc.stdout!r}"
    result = json.loads(lines[-1])
    assert result["world_size"] == 2
    checksums = result["rank_checksums"]
    assert len(checksums) == 2 and len(set(checksums)) == 1, checksums

    losses = [h["loss"] for h in result["history"]]
    assert [h["epoch"] for h in result["history"]] == [1, 2, 3, 4]
    assert losses[-1] < 0.8 * losses[0], losses
    assert result["trainer_accuracy"] > 0.8

    # one writer: one model, one checkpoint, and one progress log (rank 0's)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.onnx")) == [
        "run/model.onnx", "run/trainer.onnx"]
    assert (out / "checkpoint.pt").is_file()
    assert proc.stderr.count("epoch 1:") == 1


def test_single_process_world_is_the_identity(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    world = join(torch.device("cpu"))
    assert not world.distributed and world.is_main
    module = torch.nn.Linear(3, 2)
    assert world.wrap(module) is module
    order = torch.randperm(10)
    assert world.epoch_order(order, 0, seed=0) is order
    assert world.num_steps(10, 4) == 3
    assert world.sum_metrics(1.5, 2, 3) == (1.5, 2, 3)
    result = world.finish(lambda: {"model": "m"}, [{"epoch": 1, "loss": 1.0}], module)
    assert result["world_size"] == 1 and result["rank_checksums"] == [parameter_checksum(module)]


def test_only_rank_zero_exports():
    exported = []
    world = World(device=torch.device("cpu"), rank=1)  # a non-main rank (no process group needed here)
    result = world.finish(lambda: exported.append(1) or {}, [], torch.nn.Linear(2, 2))
    assert exported == [] and result["rank"] == 1


def test_checksum_sees_every_parameter_bit():
    torch.manual_seed(0)
    module = torch.nn.Linear(4, 3)
    before = parameter_checksum(module)
    with torch.no_grad():
        module.weight[2, 1] = torch.nextafter(module.weight[2, 1], torch.tensor(1.0))
    assert parameter_checksum(module) != before


def test_missing_rendezvous_address_is_one_line(monkeypatch):
    from pnetc.errors import PnetcError

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    if torch.distributed.is_initialized():
        pytest.skip("a process group is already running in this process")
    with pytest.raises(PnetcError, match="MASTER_ADDR"):
        join(torch.device("cpu"))
