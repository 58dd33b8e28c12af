"""Shared helpers for the output-folder tests: a folder of the user's own files, a byte-exact
snapshot of a folder, small models, and the CLI (in-process, as the user runs it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.compiler import model_factory as mf
from tests.harden.conftest import CliResult, assert_one_line_error, run_cli  # noqa: F401  (re-exported)

USER_FILES = {
    "main.c": b"#include \"model.h\"\nint main(void) { return 0; }\n",
    "examples/x.c": b"/* the user's example */\n",
    "model.onnx": b"not really a model, but the user's bytes\n",
    "notes/TODO.md": b"- ship it\n",
    ".hidden": b"dotfiles are the user's too\n",
}


def snapshot(root: Path) -> dict[str, str]:
    """Every file below root (hidden ones and pnetc's manifest included) -> sha256 of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() or p.is_symlink()}


def user_folder(root: Path) -> Path:
    """root filled with USER_FILES (pnetc wrote none of them)."""
    for rel, data in USER_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def user_files_intact(root: Path) -> None:
    for rel, data in USER_FILES.items():
        assert (root / rel).read_bytes() == data, f"{rel} changed"


def no_temporaries(root: Path) -> None:
    """No temporary folder beside root and no temporary file in it."""
    beside = [p.name for p in root.parent.iterdir() if p.name.startswith(f".{root.name}.")]
    assert beside == [], f"temporary folders left beside {root}: {beside}"
    inside = [p.name for p in root.rglob("*.tmp")]
    assert inside == [], f"temporary files left in {root}: {inside}"


@pytest.fixture(scope="session")
def small_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs-models")
    return {
        "small": mf.make_dense_model(d / "small.onnx"),
        "other": mf.make_dense_model(d / "other.onnx", seed=3, hidden=(24,)),
        # 4096 bits x 96 hidden int8 weights: about 400 KB, more than a micro:bit's 256 KB of flash
        "too_big": mf.make_dense_model(d / "too_big.onnx", num_bits=4096, hidden=(96,), seed=5),
        "data": mf.write_dense_npz(d / "data.npz"),
    }
