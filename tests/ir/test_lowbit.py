"""Low-bit hidden layers (pnetc/ir/passes/lowbit.py): int4 / +-1 weights after the first layer,
declared by the model's pnetc.training weight_bits, checked on their grid, run bit-exact in C."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from pnetc import kernels
from pnetc.compiler import compile_model
from pnetc.errors import PnetcError
from pnetc.frontend import load_model
from pnetc.ir.graph import Dense
from pnetc.ir.passes import run_passes
from tests.compiler import model_factory as mf


def _on_grid(w: np.ndarray, bits: int) -> np.ndarray:
    """w rounded per row to the grid pnetc train --weight-bits exports."""
    if bits == 1:
        alpha = np.abs(w).mean(axis=1, keepdims=True)
        return np.where(w >= 0, alpha, -alpha).astype(np.float32)
    scale = np.abs(w).max(axis=1, keepdims=True) / 7.0
    return (np.clip(np.round(w / scale), -7, 7) * scale).astype(np.float32)


def low_bit_model(path, bits: int, *, on_grid: bool = True, declared=None, hidden=(40, 24)):
    """A projection model whose layers after the first are on the `bits` grid, declaring weight_bits."""
    src = mf.make_dense_model(path.with_name("src.onnx"), hidden=hidden)
    model = onnx.load(str(src))
    for init in model.graph.initializer:
        if init.name.endswith(".weight") and init.name != "fc0.weight" and on_grid:
            init.CopyFrom(numpy_helper.from_array(_on_grid(numpy_helper.to_array(init), bits), init.name))
    for prop in model.metadata_props:
        if prop.key == "pnetc.training":
            prop.value = json.dumps({"weight_bits": bits if declared is None else declared})
    onnx.save(model, str(path))
    return path


def _lowerings(graph) -> list[str]:
    return [op.lowering for op in graph.ops if isinstance(op, Dense)]


@pytest.mark.parametrize("bits, lowering", [(4, "dense_s4"), (1, "dense_pm1")])
def test_layers_after_the_first_take_the_declared_kernel(tmp_path, bits, lowering):
    path = low_bit_model(tmp_path / "m.onnx", bits)
    assert _lowerings(run_passes(load_model(path), precision="int8")) == ["bitsum", lowering, lowering]
    assert _lowerings(run_passes(load_model(path), precision="binary")) == ["xnor", lowering, lowering]
    # float32 runs the float weights (already the grid values)
    assert _lowerings(run_passes(load_model(path), precision="float32")) == ["bitsum", "dense", "dense"]


@pytest.mark.parametrize("bits", [4, 1])
def test_the_grid_is_quantized_exactly(tmp_path, bits):
    graph = run_passes(load_model(low_bit_model(tmp_path / "m.onnx", bits)), precision="int8")
    for op in graph.dense_layers()[1:]:
        q = op.quant
        np.testing.assert_allclose(q.w_q * q.w_scale[:, None], op.weight, rtol=1e-6, atol=0)
        assert np.abs(q.w_q).max() <= (7 if bits == 4 else 1)


def test_undeclared_grid_stays_int8(tmp_path):
    """Without weight_bits the same weights compile as int8 (no guessing from the values)."""
    model = onnx.load(str(low_bit_model(tmp_path / "m.onnx", 4)))
    for prop in model.metadata_props:
        if prop.key == "pnetc.training":
            prop.value = "{}"
    onnx.save(model, str(tmp_path / "plain.onnx"))
    assert _lowerings(run_passes(load_model(tmp_path / "plain.onnx"), precision="int8")) == ["bitsum", "dense", "dense"]


@pytest.mark.parametrize("bits", [4, 1])
def test_weights_off_the_grid_are_refused(tmp_path, bits):
    path = low_bit_model(tmp_path / "m.onnx", bits, on_grid=False)
    with pytest.raises(PnetcError, match=r"layer 'Gemm_1', output \d+: .*not on the grid"):
        run_passes(load_model(path), precision="int8")


@pytest.mark.parametrize("declared", [3, "4", True, 16])
def test_bad_weight_bits_metadata_is_refused(tmp_path, declared):
    path = low_bit_model(tmp_path / "m.onnx", 4, declared=declared)
    with pytest.raises(PnetcError, match="weight_bits must be one of 1, 4, 8"):
        run_passes(load_model(path), precision="int8")


@pytest.mark.parametrize("bits, kernel", [(4, "pnet_dense_s4"), (1, "pnet_dense_pm1")])
def test_generated_c_is_bit_exact_on_the_host(tmp_path, bits, kernel):
    from pnetc.evaluate import verify_model

    path = low_bit_model(tmp_path / "m.onnx", bits)
    compiled = compile_model(path, tmp_path / "c", precision="int8")
    assert kernel in (tmp_path / "c" / "model.c").read_text()
    assert f"{kernel.removeprefix('pnet_')}.c" in {p.name for p in (tmp_path / "c" / "runtime").iterdir()}
    # packed: int4 is half a byte per weight (rows padded to groups of 8), +-1 a bit (rows padded to words)
    weights_c = (tmp_path / "c" / "model_weights.c").read_text()
    for i, op in enumerate(compiled.graph.dense_layers()[1:], start=1):
        n = op.out_features * (kernels.s4_row_bytes(op.in_features) if bits == 4 else kernels.num_words(op.in_features))
        assert f"static const {'uint8_t' if bits == 4 else 'uint32_t'} l{i}_w[{n}]" in weights_c
    x = mf.dense_samples(400, 64, seed=3)
    np.savez(tmp_path / "data.npz", x=x, y=np.arange(400) % 10)
    report = verify_model(path, data=str(tmp_path / "data.npz"), builds=("signed-char", "asan-ubsan"))
    assert report.samples > 0 and report.mismatches == 0  # the data file's test split


@pytest.mark.parametrize("kernel, needs", [("pnet_dense_s8", "dense_s8.c"), ("pnet_dense_s4", "dense_s4.c"),
                                           ("pnet_dense_pm1", "dense_pm1.c")])
def test_kernels_bring_what_their_support_helpers_call(kernel, needs):
    """The int8 dense kernels share pnet_support.h's clamp and requantize themselves: the file list of a
    generated model must still carry requantize.c, and a float kernel must not pull it in."""
    from pnetc.codegen.render import kernel_files

    assert kernel_files(f"{kernel}(x);") == sorted([needs, "requantize.c"])
    assert kernel_files("pnet_bitsum_f32(x);") == ["bitsum_f32.c"]
