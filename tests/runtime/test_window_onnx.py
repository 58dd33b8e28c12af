"""The conv and pool twins against ONNX Runtime on the same geometries: the output sizes (floor and
ceil mode), padding, dilation and count_include_pad mean what ONNX means (Conv, MaxPool,
AveragePool; float32, so conv and average pool to a few ulps, max pool exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from window_cases import all_geometries

from pnetc import kernels as K

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402


def _run(op: str, x: np.ndarray, attrs: dict, w: np.ndarray | None = None) -> np.ndarray:
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))]
    names = ["x"]
    inits = []
    if w is not None:
        inits.append(helper.make_tensor("w", TensorProto.FLOAT, list(w.shape), w.ravel().tolist()))
        names.append("w")
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def _attrs(g, pool: bool) -> dict:
    a = dict(strides=list(g.strides), pads=list(g.pads), dilations=list(g.dilations))
    if pool:
        a.update(kernel_shape=list(g.kernel), ceil_mode=int(g.ceil_mode))
    return a


def test_pools_match_onnxruntime(rng):
    for g in all_geometries(rng, 60):
        x = rng.standard_normal((2,) + g.in_shape).astype(np.float32)
        got = K.maxpool_f32(x, **g.twin_args(pool=True))
        np.testing.assert_array_equal(got, _run("MaxPool", x, _attrs(g, True)), err_msg=repr(g))
        for include_pad in (0, 1):
            got = K.avgpool_f32(x, **g.twin_args(pool=True), count_include_pad=bool(include_pad))
            want = _run("AveragePool", x, dict(_attrs(g, True), count_include_pad=include_pad))
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{g} include_pad={include_pad}")


def test_int8_pools_match_onnxruntime_on_integers(rng):
    """On integer-valued inputs the int8 max pool is the float one, and the int8 average pool is the
    float mean rounded half away from zero."""
    for g in all_geometries(rng, 30):
        x = rng.integers(-128, 128, size=g.in_shape, dtype=np.int8)
        xf = x[None].astype(np.float32)
        assert np.array_equal(K.maxpool_s8(x, **g.twin_args(pool=True)), _run("MaxPool", xf, _attrs(g, True))[0])
        mean = _run("AveragePool", xf, dict(_attrs(g, True), count_include_pad=0))[0].astype(np.float64)
        want = np.sign(mean) * np.floor(np.abs(mean) + 0.5 + 1e-9)
        np.testing.assert_array_equal(K.avgpool_s8(x, **g.twin_args(pool=True)), want, err_msg=repr(g))


def test_conv_matches_onnxruntime(rng):
    for g in all_geometries(rng, 60):
        if g.ceil_mode:
            continue
        x = rng.standard_normal((2,) + g.in_shape).astype(np.float32)
        w = rng.standard_normal((3, g.channels) + g.kernel).astype(np.float32)
        got = K.conv2d_f32(x, w, **g.twin_args(pool=False))
        np.testing.assert_allclose(got, _run("Conv", x, _attrs(g, False), w), rtol=1e-4, atol=1e-5, err_msg=repr(g))
