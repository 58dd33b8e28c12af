"""The Python API's float-feature entry points: Model.quantize / CompileResult.quantize give the bytes the
generated NAME_quantize gives (pnetc.quantization), and a malformed per-feature encoding is refused."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

import pnetc
from pnetc.quantization import fit_features
from tests.compiler import model_factory as mf
from tests.harden.conftest import assert_one_line_error, run_cli


@pytest.fixture()
def float_model(tmp_path):
    rng = np.random.default_rng(0)
    train = (np.array([1e-3, 500.0, -20.0, 3.0]) * (1 + rng.random((100, 4)))).astype(np.float32)
    encoding = fit_features(train)
    path = mf.make_dense_model(tmp_path / "f.onnx", input_size=4, num_classes=3, num_bits=32,
                               input_meta=encoding.to_metadata())
    return path, encoding, train


def test_model_quantize_uses_the_stored_encoding(float_model, tmp_path):
    path, encoding, train = float_model
    model = pnetc.load(path)
    np.testing.assert_array_equal(model.quantize(train), encoding.quantize(train))
    assert model.quantize(train).dtype == np.uint8
    cm = pnetc.compile(path, tmp_path / "out")
    np.testing.assert_array_equal(cm.quantize(train), encoding.quantize(train))


def test_ties_round_to_even(tmp_path):
    """Exact ties (power-of-two scales): x / scale = 0.5, 1.5, 2.5, 3.5 -> 0, 2, 2, 4, then + zero point."""
    meta = {"feature_scale": [0.25, 0.5, 1.0, 2.0], "feature_zero_point": [0, 3, -2, 10]}
    path = mf.make_dense_model(tmp_path / "t.onnx", input_size=4, num_classes=2, num_bits=32, input_meta=meta)
    ties = np.array([[0.125, 0.75, 2.5, 7.0], [-0.125, -0.75, 3.5, -1.0]], np.float32)
    assert pnetc.load(path).quantize(ties).tolist() == [[0, 2 + 3, 2 - 2, 4 + 10], [0, -2 + 3, 4 - 2, 0 + 10]]


def test_foreign_model_quantizes_after_compiling(tmp_path):
    path = mf.make_foreign_mlp(tmp_path / "m.onnx", input_size=6, num_classes=2)
    x = np.random.default_rng(1).standard_normal((50, 1, 6)).astype(np.float32)
    with pytest.raises(pnetc.PnetcError, match="CompileResult.quantize"):
        pnetc.load(path).quantize(x.reshape(50, 6))
    cm = pnetc.compile(path, tmp_path / "out", calib=x)
    np.testing.assert_array_equal(cm.quantize(x.reshape(50, 6)), cm.reference.encode_input(x.reshape(50, 6)))


@pytest.mark.parametrize("bad", [
    {"feature_scale": [0.1, 0.1, 0.1], "feature_zero_point": [0, 0, 0, 0]},   # one short
    {"feature_scale": [0.1, 0.0, 0.1, 0.1], "feature_zero_point": [0, 0, 0, 0]},  # zero scale
    {"feature_scale": [0.1] * 4, "feature_zero_point": [0, 0.5, 0, 0]},    # not an integer
    {"feature_scale": [0.1] * 4},                                           # zero points missing
])
def test_malformed_encoding_is_one_line(tmp_path, bad):
    path = mf.make_dense_model(tmp_path / "b.onnx", input_size=4, num_classes=2, num_bits=32)
    m = onnx.load(str(path))
    for p in m.metadata_props:
        if p.key == "pnetc.input":
            p.value = json.dumps({**json.loads(p.value), **bad})
    onnx.save(m, str(path))
    assert_one_line_error(run_cli(["compile", str(path), "-o", str(tmp_path / "out")]),
                          "feature_scale", "feature_zero_point", "one per feature (4)")
