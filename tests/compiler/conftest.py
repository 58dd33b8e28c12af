"""Shared fixtures: factory models written once per session."""

from __future__ import annotations

import shutil

import pytest

from tests.compiler import model_factory as mf


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("compiler-models")
    return {
        "dense": mf.make_dense_model(d / "dense.onnx"),
        "ternary": mf.make_dense_model(d / "ternary.onnx", kind="ternary", seed=4, hidden=(24, 16)),
        "text": mf.make_text_model(d / "text.onnx"),
        "presence": mf.make_text_model(d / "presence.onnx", num_bits=1000, presence_hashes=3),
        "foreign": mf.make_foreign_mlp(d / "foreign.onnx"),
        "dense_npz": mf.write_dense_npz(d / "dense.npz"),
        "text_jsonl": mf.write_text_jsonl(d / "text.jsonl"),
        "dir": d,
    }


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
