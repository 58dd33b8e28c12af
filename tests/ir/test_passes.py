"""Each IR pass on its own (pnetc/ir/passes): fold, lower, quantize, plan memory."""

from __future__ import annotations

import numpy as np
import pytest

from pnetc.errors import PnetcError
from pnetc.frontend import load_model
from pnetc.ir.graph import Activation, Affine, Dense, Identity
from pnetc.ir.interpret import Reference
from pnetc.ir.passes import run_passes
from pnetc.ir.passes.fold import fold
from pnetc.ir.passes.lower import lower
from pnetc.ir.passes.memory import plan_memory
from pnetc.ir.passes.quantize import qparams_from_range, quantize_multiplier
from tests.compiler import model_factory as mf


@pytest.fixture
def foreign(tmp_path):
    return mf.make_foreign_mlp(tmp_path / "foreign.onnx")


def test_fold_leaves_only_dense_layers_with_their_activations(foreign):
    graph = load_model(foreign)
    assert any(isinstance(op, (Affine, Identity)) for op in graph.ops)  # BatchNorm, Flatten, Dropout
    fold(graph)
    assert not any(isinstance(op, (Affine, Identity)) for op in graph.ops)
    dense = [op for op in graph.ops if isinstance(op, Dense)]
    assert len(dense) == 2 and dense[0].activation == "relu"  # the ReLU is fused into the first layer
    assert graph.output_activation == "softmax"  # stripped from the graph: scores are logits


def test_folded_batchnorm_gives_the_same_float_network(foreign):
    """BatchNorm folded into the Gemm before it: the float logits equal the layer-by-layer maths."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in onnx.load(str(foreign)).graph.initializer}
    x = np.random.default_rng(0).standard_normal((16, 20))
    h = x @ inits["1.weight"].T + inits["1.bias"]
    h = (h - inits["2.mean_src"]) / np.sqrt(inits["2.running_var"] + 1e-5) * inits["2.weight"] + inits["2.bias"]
    want = np.maximum(h, 0) @ inits["5.weight_t"] + inits["5.bias"]
    graph = run_passes(load_model(foreign), precision="float32")
    got = Reference(graph).run(x.astype(np.float32)).scores
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("precision, lowering", [("int8", "bitsum"), ("float32", "bitsum"), ("binary", "xnor")])
def test_lower_picks_the_first_layer_kernel_over_bits(tmp_path, precision, lowering):
    graph = load_model(mf.make_dense_model(tmp_path / "m.onnx"))
    fold(graph)
    lower(graph, precision=precision, projection="hash")
    first = graph.consumers(graph.projection.outputs[0])[0]
    assert isinstance(first, Dense) and first.lowering == lowering
    later = [op for op in graph.ops if isinstance(op, Dense) and op is not first]
    assert later and all(op.lowering == "dense" for op in later)


def test_lower_refuses_table_projections_for_text(tmp_path):
    graph = load_model(mf.make_text_model(tmp_path / "t.onnx"))
    fold(graph)
    with pytest.raises(PnetcError, match="text models always use --projection hash"):
        lower(graph, precision="int8", projection="table")


@pytest.mark.parametrize("real", [1e-6, 0.0123, 0.5, 0.999999, 1.0, 3.75, 1234.5])
def test_quantize_multiplier_represents_the_scale(real):
    mult, shift = quantize_multiplier(real)
    assert 2**30 <= mult < 2**31
    assert abs(mult * 2.0 ** (shift - 31) - real) <= real * 2**-30


@pytest.mark.parametrize("lo, hi", [(-1.0, 3.0), (0.5, 2.0), (-7.0, -0.25), (0.0, 0.0)])
def test_qparams_cover_the_range(lo, hi):
    q = qparams_from_range(lo, hi)
    assert -128 <= q.zero_point <= 127
    for v in (min(lo, 0.0), max(hi, 0.0)):  # the ends are representable to half a step
        code = np.clip(np.round(v / q.scale) + q.zero_point, -128, 127)
        assert abs((code - q.zero_point) * q.scale - v) <= q.scale / 2 + 1e-12


def test_qparams_refuse_a_non_finite_range():
    with pytest.raises(PnetcError, match="finite range"):
        qparams_from_range(-np.inf, 1.0)


def _cnn(path):
    pytest.importorskip("torch")
    return mf.make_torch_cnn(path, "cnn-bn", dynamic=True)


CALIB = mf.dense_samples(50, 64, 8).astype(np.float32)


@pytest.mark.parametrize("model", ["dense", "cnn"])
@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_memory_plan_keeps_live_buffers_apart(tmp_path, precision, model):
    if model == "cnn":
        graph = run_passes(load_model(_cnn(tmp_path / "c.onnx")), precision=precision, calib=CALIB)
        elem = 1 if precision == "int8" else 4
        for i, op in enumerate(graph.ops):  # conv and pooling outputs get their own buffer, never in place
            if op.kind in ("Conv", "Pool"):
                out = graph.plan.buffers[op.outputs[0]]
                assert out.nbytes == elem * graph.tensors[op.outputs[0]].size and out.first == i
                if op.inputs[0] in graph.plan.buffers:
                    src = graph.plan.buffers[op.inputs[0]]
                    assert src.last >= i and (src.offset + src.nbytes <= out.offset or out.offset + out.nbytes <= src.offset)
    else:
        graph = run_passes(load_model(mf.make_dense_model(tmp_path / "m.onnx", hidden=(32, 16))), precision=precision)
    plan = plan_memory(graph)
    buffers = list(plan.buffers.values())
    assert len(buffers) >= 3 and all(b.offset % plan.alignment == 0 for b in buffers)
    assert all(b.offset + b.nbytes <= plan.arena_bytes for b in buffers)
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            live_together = a.first <= b.last and b.first <= a.last
            apart = a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset
            assert apart or not live_together, (a, b)
    # reuse: some buffers that are never live together share memory, so the arena is smaller than their sum
    assert plan.arena_bytes < sum(b.nbytes for b in buffers)


def test_batchnorm_folds_into_the_conv_before_it_and_relu_fuses(tmp_path):
    graph = load_model(_cnn(tmp_path / "c.onnx"))
    assert [op.kind for op in graph.ops].count("Affine") == 2  # the two BatchNormalization nodes
    fold(graph)
    assert [op.kind for op in graph.ops] == ["Conv", "Pool", "Conv", "Pool", "Dense"]
    assert all(op.activation == "relu" for op in graph.ops if op.kind == "Conv")


def test_int8_conv_taps_are_bounded_for_int32_exactness(tmp_path):
    """in_c * k_h * k_w products per output, like the inputs of an int8 dense layer (limits.py)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from pnetc.ir.limits import MAX_INT8_CONV_TAPS

    in_c = MAX_INT8_CONV_TAPS // 16 + 1
    w = np.full((1, in_c, 4, 4), 0.01, np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="wide"), helper.make_node("Flatten", ["c"], ["f"]),
         helper.make_node("Gemm", ["f", "g"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", in_c, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.ones((2, 1), np.float32), "g")])
    path = tmp_path / "wide.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    x = np.random.default_rng(0).random((4, in_c * 16)).astype(np.float32)
    run_passes(load_model(path), precision="float32")  # float32 has no int32 accumulator
    with pytest.raises(PnetcError, match=f"layer 'wide' \\(int8\\): in_c\\*k_h\\*k_w={in_c * 16} is outside the "
                                         f"supported range 1..{MAX_INT8_CONV_TAPS}"):
        run_passes(load_model(path), precision="int8", calib=x)


def test_conv_work_is_bounded(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from pnetc.ir.limits import MAX_CONV_MACS

    w = np.full((64, 64, 3, 3), 0.01, np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="big"),
         helper.make_node("GlobalAveragePool", ["c"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
         helper.make_node("Gemm", ["f", "g"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.ones((2, 64), np.float32), "g")])
    path = tmp_path / "big.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(PnetcError, match=f"node 'big' \\(Conv\\): total conv multiply-adds={64 * 32 * 32 * 64 * 9} "
                                         f"is outside the supported range 0..{MAX_CONV_MACS}"):
        load_model(path)


def test_per_feature_input_qparams_span_each_range_and_bound_the_fold():
    """min -> -128 and max -> 127 per feature (within one level), constant and zero features get a normal
    scale, and a feature far from 0 gets a coarser scale so that sum_i 127 * |zp_i| fits the bias."""
    from pnetc.ir.passes.quantize import MAX_ZERO_POINT_FOLD, feature_qparams
    from pnetc.quantization import quantize as encode

    lo = np.array([-1e-3, 143.5, 0.05, -5.0, 7.0, 0.0, -2e4, 1e6, 278.0])
    hi = np.array([1e-3, 2501.0, 0.0975, 5.0, 7.0, 0.0, -1e4, 1e6 + 1, 1680.0])
    scale, zp = feature_qparams(lo, hi)
    assert scale.dtype == np.float32 and zp.dtype == np.int32
    assert np.all(scale >= np.finfo(np.float32).tiny) and np.all(np.isfinite(scale))
    assert 127 * np.abs(zp.astype(np.int64)).sum() <= MAX_ZERO_POINT_FOLD
    q_lo = encode(lo.astype(np.float32), scale, zp, -(2**31), 2**31)
    q_hi = encode(hi.astype(np.float32), scale, zp, -(2**31), 2**31)
    spread = [0, 1, 2, 3, 6, 8]  # ordinary ranges: all 256 levels
    assert np.all(np.abs(q_lo[spread] + 128) <= 1) and np.all(np.abs(q_hi[spread] - 127) <= 1)
    assert q_lo[4] == -128 and q_lo[5] == -128  # constant features: their value is level -128
    assert q_lo[7] >= -129 and q_hi[7] <= 128  # far from 0: coarser, still inside the int8 range
