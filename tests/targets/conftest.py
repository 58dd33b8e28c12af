"""Helpers for the board tests: which boards can run here, and the factory models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from pnetc.targets.boards import list_boards


def runnable_boards() -> list[str]:
    return [b.name for b in list_boards() if b.runner != "none"]


def skip_unless_runnable(name: str) -> None:
    from pnetc.targets.boards import get_board

    missing = get_board(name).missing_tools()
    if missing:
        pytest.skip(f"{name}: {', '.join(missing)} not installed")


def pnetc(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m pnetc ARGS`; `env` adds to (or overrides) this process's environment."""
    return subprocess.run([sys.executable, "-m", "pnetc", *args], capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def factory_models(tmp_path_factory):
    """Real ONNX exports (the compiler tests' factory) and data files to run them on."""
    pytest.importorskip("onnx")
    from tests.compiler import model_factory as mf

    d = tmp_path_factory.mktemp("target-models")
    return {
        "dense": mf.make_dense_model(d / "dense.onnx"),
        "text": mf.make_text_model(d / "text.onnx"),
        "dense_npz": mf.write_dense_npz(d / "dense.npz", n=60),
        "text_jsonl": mf.write_text_jsonl(d / "text.jsonl"),
        "dir": d,
    }


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
