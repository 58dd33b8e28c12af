"""One device path for every model kind: `run`, `build` and `bench` work, with 0 mismatches, for a
plain torch MLP and a small torch CNN (batch-1 and dynamic-batch exports, int8 through --calib and
float32), a CNN with BatchNorm, a Conv1d net, a pnetc projection net and a text model, on the host,
a Cortex-M4 (mps2-an386) and a Cortex-M0 (microbit)."""

from __future__ import annotations

import numpy as np
import pytest

import pnetc
from tests.compiler import model_factory as mf

from .conftest import skip_unless_runnable

BOARDS = ["host", "mps2-an386", "microbit"]
KINDS = ["torch-mlp-batch1", "torch-mlp-dynamic", "torch-cnn-batch1", "torch-cnn-dynamic", "torch-cnn-bn",
         "torch-conv1d", "projection", "text"]


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    torch = pytest.importorskip("torch")
    d = tmp_path_factory.mktemp("every-kind")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 24), torch.nn.ReLU(), torch.nn.Linear(24, 10))
    example = torch.rand(1, 64) * 255
    torch.onnx.export(net, example, str(d / "mlp_b1.onnx"), dynamo=False, opset_version=17)
    torch.onnx.export(net, example, str(d / "mlp_dyn.onnx"), dynamo=False, opset_version=17, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    np.savez(d / "calib.npz", x=mf.dense_samples(100, seed=4).astype(np.float32))
    dense = mf.write_dense_npz(d / "dense.npz", n=200)
    return {
        "torch-mlp-batch1": (d / "mlp_b1.onnx", dense),
        "torch-mlp-dynamic": (d / "mlp_dyn.onnx", dense),
        "torch-cnn-batch1": (mf.make_torch_cnn(d / "cnn_b1.onnx", "cnn"), dense),
        "torch-cnn-dynamic": (mf.make_torch_cnn(d / "cnn_dyn.onnx", "cnn", dynamic=True), dense),
        "torch-cnn-bn": (mf.make_torch_cnn(d / "cnn_bn.onnx", "cnn-bn", dynamic=True), dense),
        "torch-conv1d": (mf.make_torch_cnn(d / "conv1d.onnx", "conv1d", dynamic=True), dense),
        "projection": (mf.make_dense_model(d / "projection.onnx"), dense),
        "text": (mf.make_text_model(d / "text.onnx"), mf.write_text_jsonl(d / "text.jsonl")),
        "calib": d / "calib.npz",
    }


def _options(kinds, kind: str, precision: str) -> dict:
    return {"calib": kinds["calib"]} if kind.startswith("torch") and precision == "int8" else {}


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("kind", KINDS)
def test_run_build_bench(kinds, kind, board, tmp_path):
    skip_unless_runnable(board)
    model, data = kinds[kind]
    precisions = ["int8", "float32"] if kind.startswith("torch") else ["int8"]
    for precision in precisions:
        opts = _options(kinds, kind, precision)
        ran = pnetc.run(model, board, data=data, limit=20, precision=precision, progress=False, **opts)
        assert 5 <= ran.samples <= 20 and ran.mismatches == 0, (precision, ran.first_mismatches)
    built = pnetc.build(model, board, tmp_path / "fw", progress=False, **_options(kinds, kind, "int8"))
    assert built.fits and built.flash_bytes > 0 and built.elf.is_file()
    benched = pnetc.bench(model, board, n=3, data=data, progress=False, **_options(kinds, kind, "int8"))
    assert benched.mismatches == 0 and benched.instructions_per_inference > 0


def test_a_float_model_without_calibration_says_how_to_quantize(kinds):
    model, data = kinds["torch-mlp-batch1"]
    with pytest.raises(pnetc.PnetcError, match="--calib"):
        pnetc.run(model, "host", data=data, limit=5, progress=False)
