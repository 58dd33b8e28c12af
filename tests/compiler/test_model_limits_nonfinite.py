"""Values created by the compiler (constant folding, BatchNorm/Mul/Div fusion, quantisation) are
finite and fit their C type, or the compile stops with one line naming the node. Before, NaN and
inf compiled with exit 0: float32 C then failed on `nanf`, int8 got all-zero weights."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pnetc.compiler import build_graph
from pnetc.errors import PnetcError
from pnetc.frontend import load_model
from pnetc.ir.passes import run_passes
from tests.compiler import model_factory as mf

CALIB = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)


def _model(path, nodes, inits, out_size=2, in_size=4):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", in_size])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", out_size])],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def _w(shape, scale=1.0):
    return (scale * np.random.default_rng(1).standard_normal(shape)).astype(np.float32)


def _gemm_then(path, node, consts: dict, **kw):
    """x -> Gemm 'fc' -> h -> `node`(h, consts...) -> y."""
    return _model(path, [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1, name="fc"), node],
                  {"w": kw.pop("w", _w((2, 4))), **consts}, **kw)


def _bn(var, gamma=None, eps=1e-5):
    return ({"g": np.ones(2, np.float32) if gamma is None else gamma, "b": np.zeros(2, np.float32),
             "m": np.zeros(2, np.float32), "v": np.asarray(var, np.float32)},
            helper.make_node("BatchNormalization", ["h", "g", "b", "m", "v"], ["y"], name="bn", epsilon=eps))


def refused(path, *needles, precision="float32", calib=None):
    with pytest.raises(PnetcError) as info:
        build_graph(path, precision=precision, calib=calib)
    msg = str(info.value)
    assert "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, msg


@pytest.mark.parametrize("precision", ["float32", "int8"])
def test_batchnorm_negative_variance(tmp_path, precision):
    consts, node = _bn([1.0, -1.0])
    refused(_gemm_then(tmp_path / "m.onnx", node, consts), "'bn'", "variance + epsilon must be positive",
            "feature 1", precision=precision, calib=CALIB)


def test_batchnorm_zero_variance_and_epsilon(tmp_path):
    consts, node = _bn([1.0, 0.0], eps=0.0)
    refused(_gemm_then(tmp_path / "m.onnx", node, consts), "'bn'", "got 0 for feature 1")


def test_batchnorm_scale_beyond_float32(tmp_path):
    consts, node = _bn([1e-30, 1.0], gamma=np.float32([1e30, 1.0]), eps=0.0)  # scale 1e45
    refused(_gemm_then(tmp_path / "m.onnx", node, consts), "'bn'", "folded scale is 1e+45", "finite float32")


def test_mul_by_1e30_overflows_the_folded_weights(tmp_path):
    node = helper.make_node("Mul", ["h", "s"], ["y"], name="mul")
    p = _gemm_then(tmp_path / "m.onnx", node, {"s": np.float32(1e30)}, w=_w((2, 4), 1e10))
    refused(p, "folding 'mul' into layer 'fc'", "not a finite float32")


def test_mul_by_1e30_twice_overflows_when_merged(tmp_path):
    p = _model(tmp_path / "m.onnx", [
        helper.make_node("Mul", ["x", "s"], ["a"], name="mul1"),
        helper.make_node("Mul", ["a", "s"], ["b"], name="mul2"),
        helper.make_node("Gemm", ["b", "w"], ["y"], transB=1, name="fc")], {"s": np.float32(1e30), "w": _w((2, 4))})
    refused(p, "merging the element-wise node 'mul1' into 'mul2'", "not a finite float32")


def test_bias_shift_overflows_when_folded_forward(tmp_path):
    """W (x + t) + b with t = 3e38 and W ~ 1e5: W t leaves float32."""
    p = _model(tmp_path / "m.onnx", [
        helper.make_node("Add", ["x", "t"], ["a"], name="add"),
        helper.make_node("Gemm", ["a", "w"], ["y"], transB=1, name="fc")],
        {"t": np.float32(3e38), "w": np.full((2, 4), 1e5, np.float32)})
    refused(p, "folding 'add' into layer 'fc'", "not a finite float32")


def test_div_by_denormal(tmp_path):
    node = helper.make_node("Div", ["h", "d"], ["y"], name="div")
    refused(_gemm_then(tmp_path / "m.onnx", node, {"d": np.float32(1e-45)}), "'div'", "1/divisor overflows float32")


# constant folding: (the folded node, what consumes its output 's', its constant inputs, words of the error)
FOLDS = {
    "div_by_zero": (helper.make_node("Div", ["one", "zero"], ["s"], name="div0"), "Mul",
                    {"one": np.float32(1.0), "zero": np.float32(0.0)},
                    ["'div0'", "constant 's' is inf after constant folding"]),
    "product_overflow": (helper.make_node("Mul", ["big", "big"], ["s"], name="square"), "Mul",
                         {"big": np.float32(1e30)}, ["'square'", "is inf after constant folding"]),
    "cast_out_of_range": (helper.make_node("Cast", ["big"], ["s"], to=TensorProto.INT64, name="cast"), "Reshape",
                          {"big": np.array([1e30, 4], np.float32)}, ["'cast'", "overflows int64"]),
    # (2^62 * 4) wraps to 0 in numpy's int64
    "integer_wrap": (helper.make_node("Mul", ["i", "j"], ["s"], name="wrap"), "Reshape",
                     {"i": np.array([2**62, 1], np.int64), "j": np.array([4, 4], np.int64)},
                     ["'wrap'", "overflows int64"]),
}


@pytest.mark.parametrize("case", sorted(FOLDS))
def test_constant_folding(tmp_path, case):
    folded, consumer, consts, needles = FOLDS[case]
    p = _model(tmp_path / "m.onnx", [folded, helper.make_node(consumer, ["x", "s"], ["a"], name="use"),
                                     helper.make_node("Gemm", ["a", "w"], ["y"], transB=1, name="fc")],
               {**consts, "w": _w((2, 4))})
    refused(p, *needles)


def test_calibration_range_beyond_float32(tmp_path, models):
    """A finite JSON range whose int8 scale is not a float32 (1e300 / 255)."""
    m = onnx.load(str(models["dense"]))
    for prop in m.metadata_props:
        if prop.key == "pnetc.calibration":
            cal = json.loads(prop.value)
            cal["fc0"] = cal["relu0"] = {"min": -1e300, "max": 1e300}
            prop.value = json.dumps(cal)
    path = tmp_path / "m.onnx"
    path.write_bytes(m.SerializeToString())
    build_graph(path, precision="float32")  # the float model does not use the ranges
    refused(path, "layer 'Gemm_0'", "not a normal float32", precision="int8")


def test_calibration_samples_that_overflow(tmp_path):
    """--calib samples on which the float network overflows to inf give an infinite range."""
    p = _model(tmp_path / "m.onnx", [
        helper.make_node("Gemm", ["x", "w1"], ["h"], transB=1, name="fc1"),
        helper.make_node("Gemm", ["h", "w2"], ["y"], transB=1, name="fc2")],
        {"w1": np.full((4, 4), 1e30, np.float32), "w2": np.full((2, 4), 1e30, np.float32)})
    refused(p, "fc", "finite range", precision="int8", calib=np.full((2, 4), 1e8, np.float32))


def test_denormal_weight_row_gives_no_denormal_scale(tmp_path):
    w = _w((2, 4))
    w[1] = 1e-40  # float32 denormals
    p = _model(tmp_path / "m.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, name="fc")], {"w": w})
    refused(p, "layer 'fc', output 1", "denormal", precision="int8", calib=CALIB)


def test_safety_net_names_the_node_and_stage(models):
    graph = load_model(models["foreign"])
    graph.dense_layers()[1].bias[0] = np.inf
    with pytest.raises(PnetcError, match=r"after import, node '/5/MatMul' \(Dense\): the bias holds inf"):
        run_passes(graph, precision="float32")


def test_cli_exit_2_for_the_reported_batchnorm(tmp_path):
    p = mf.make_foreign_mlp(tmp_path / "f.onnx")
    m = onnx.load(str(p))
    var = next(t for t in m.graph.initializer if t.name == "2.running_var")
    arr = numpy_helper.to_array(var).copy()
    arr[0] = -1.0
    var.CopyFrom(numpy_helper.from_array(arr, "2.running_var"))
    p.write_bytes(m.SerializeToString())
    for precision in ("float32", "int8"):
        r = subprocess.run([sys.executable, "-m", "pnetc", "compile", p, "-o", tmp_path / "o", "--precision",
                            precision], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "'/2/BatchNormalization'" in r.stderr and "variance + epsilon must be positive" in r.stderr
        assert not (tmp_path / "o").exists()


def test_finite_model_still_compiles_with_fusions(tmp_path):
    """The checks refuse only what cannot be represented: ordinary fusions still work."""
    consts, node = _bn([0.5, 2.0], gamma=np.float32([3.0, -1.0]))
    g = build_graph(_gemm_then(tmp_path / "m.onnx", node, consts), precision="int8", calib=CALIB)
    assert [op.kind for op in g.ops] == ["Dense"] and np.all(np.isfinite(g.ops[0].weight))
