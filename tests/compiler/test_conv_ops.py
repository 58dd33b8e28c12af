"""Conv, pooling and BatchNorm folding from ONNX: each op against onnxruntime in float32, int8 against the
float network, and every refused attribute as one line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pnetc.compiler import build_graph
from pnetc.errors import PnetcError
from pnetc.evaluate import check_onnxruntime
from pnetc.ir.graph import Conv, Dense, Pool
from pnetc.ir.interpret import Reference
from tests.compiler import model_factory as mf


def _w(shape, seed=0, scale=0.5):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _model(path, nodes, inits, in_shape, out_size=3, opset=17):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", *in_shape])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", out_size])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def _conv_net(path, conv_attrs=None, pool=None, in_shape=(2, 7, 6), out_c=3, k=(3, 3), extra=(), bias=True,
              extra_inits=None):
    """Conv -> Relu -> [pool] -> Flatten -> Gemm."""
    conv_attrs = {"pads": [1, 1, 1, 1]} if conv_attrs is None else conv_attrs
    inits = {"cw": _w((out_c, in_shape[0], *k), 1), **(extra_inits or {})}
    if bias:
        inits["cb"] = _w((out_c,), 2)
    nodes = [helper.make_node("Conv", ["x", "cw", "cb"] if bias else ["x", "cw"], ["c"], name="conv", **conv_attrs),
             *extra, helper.make_node("Relu", ["c" if not extra else extra[-1].output[0]], ["r"], name="relu")]
    last = "r"
    if pool is not None:
        op, attrs = pool
        nodes.append(helper.make_node(op, ["r"], ["p"], name="pool", **attrs))
        last = "p"
    nodes.append(helper.make_node("Flatten", [last], ["f"], name="flat"))
    probe = helper.make_model(helper.make_graph(nodes, "probe", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, *in_shape])], [helper.make_tensor_value_info("f", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, kk) for kk, v in inits.items()]), opset_imports=[helper.make_opsetid("", 17)])
    try:  # the flattened size as onnxruntime computes it; 1 for a model it refuses (pnetc must refuse it too)
        import onnxruntime as ort

        session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        flat = session.run(None, {"x": np.zeros((1, *in_shape), np.float32)})[0].shape[1]
    except Exception:
        flat = 1
    inits["gw"] = _w((3, flat), 3)
    nodes.append(helper.make_node("Gemm", ["f", "gw"], ["y"], transB=1, name="fc"))
    return _model(path, nodes, inits, in_shape)


def _inputs(in_shape, n=24, seed=5):
    return np.random.default_rng(seed).standard_normal((n, *in_shape)).astype(np.float32)


def _check_float_and_int8(path, in_shape):
    x = _inputs(in_shape)
    g = build_graph(path, precision="float32")
    assert check_onnxruntime(path, g, x) < 1e-4
    g8 = build_graph(path, precision="int8", calib=x)
    ref = Reference(g8)
    agree = (ref.run(x).predictions == ref.run(x, "float32").predictions).mean()
    assert agree >= 0.8, agree
    return g


@pytest.mark.parametrize("attrs", [
    {"pads": [1, 1, 1, 1]},
    {"pads": [0, 1, 2, 0], "strides": [2, 1]},
    {"strides": [2, 2]},
    {"auto_pad": "VALID", "kernel_shape": [3, 3]},
])
def test_conv2d_matches_onnxruntime(tmp_path, attrs):
    g = _check_float_and_int8(_conv_net(tmp_path / "c.onnx", attrs), (2, 7, 6))
    conv = g.ops[0]
    assert isinstance(conv, Conv) and conv.activation == "relu"  # the ReLU is fused


@pytest.mark.parametrize("pool", [
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("GlobalAveragePool", {}),
    ("GlobalMaxPool", {}),
])
def test_pooling_matches_onnxruntime(tmp_path, pool):
    g = _check_float_and_int8(_conv_net(tmp_path / "p.onnx", pool=pool), (2, 7, 6))
    assert [op.kind for op in g.ops] == ["Conv", "Pool", "Dense"]


def test_conv1d_runs_as_2d_with_one_row(tmp_path):
    p = _model(tmp_path / "c1.onnx", [
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"], pads=[2, 1], strides=[2], name="conv"),
        helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2], strides=[2], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "gw"], ["y"], transB=1, name="fc"),
    ], {"cw": _w((4, 3, 4), 1), "cb": _w((4,), 2), "gw": _w((3, 4 * 5), 3)}, (3, 20))
    g = _check_float_and_int8(p, (3, 20))
    conv = g.ops[0]
    assert conv.in_shape == (3, 1, 20) and conv.weight.shape == (4, 3, 1, 4) and conv.out_shape == (4, 1, 10)


def test_batchnorm_folds_into_the_conv_before_it(tmp_path):
    c = 3
    bn = helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["bn"], name="bn", epsilon=1e-3)
    rng = np.random.default_rng(7)
    params = {n: a.astype(np.float32) for n, a in (("g", rng.uniform(0.5, 1.5, c)), ("b", rng.normal(0, 0.3, c)),
                                                   ("m", rng.normal(0, 0.3, c)), ("v", rng.uniform(0.5, 2, c)))}
    p = _conv_net(tmp_path / "bn.onnx", extra=(bn,), extra_inits=params)
    g = _check_float_and_int8(p, (2, 7, 6))
    assert [op.kind for op in g.ops] == ["Conv", "Dense"]


def test_per_channel_normalisation_folds_into_an_unpadded_conv(tmp_path):
    p = _conv_net(tmp_path / "norm.onnx", {"pads": [0, 0, 0, 0]})
    m = onnx.load(str(p))
    m.graph.node[0].input[0] = "xn"
    m.graph.node.insert(0, helper.make_node("Sub", ["xs", "mu"], ["xn"], name="sub"))
    m.graph.node.insert(0, helper.make_node("Mul", ["x", "sd"], ["xs"], name="mul"))
    m.graph.initializer.extend([numpy_helper.from_array(np.array([[[0.5]], [[2.0]]], np.float32), "sd"),
                                numpy_helper.from_array(np.array([[[0.1]], [[-0.3]]], np.float32), "mu")])
    onnx.save(m, str(p))
    g = _check_float_and_int8(p, (2, 7, 6))
    assert [op.kind for op in g.ops] == ["Conv", "Dense"]


@pytest.mark.parametrize("dynamic", [True, False])
def test_the_cnn_export_of_torch_compiles(tmp_path, dynamic):
    """Batch-1 exports (torch's default) too: onnxruntime then takes one sample per run."""
    pytest.importorskip("torch")
    for kind in mf.TORCH_CNNS:
        p = mf.make_torch_cnn(tmp_path / f"{kind}.onnx", kind, dynamic=dynamic)
        g = build_graph(p, precision="float32")
        x = mf.dense_samples(16, 64, 3).astype(np.float32).reshape(16, *((2, 32) if kind == "conv1d" else (1, 8, 8)))
        assert check_onnxruntime(p, g, x) < 1e-3
        assert not any(op.kind == "Affine" for op in g.ops) and any(isinstance(op, Pool) for op in g.ops)
        assert isinstance(g.ops[-1], Dense)


REFUSED = [
    ({"group": 2, "pads": [1, 1, 1, 1]}, None, r"group=2 is not supported"),
    ({"dilations": [2, 2]}, None, r"dilations=\[2, 2\] are not supported"),
    ({"auto_pad": "SAME_UPPER"}, None, r"auto_pad=SAME_UPPER is not supported"),
    ({"pads": [3, 0, 0, 0]}, None, r"pad=3 is outside the supported range 0..2"),
    ({"strides": [0, 1]}, None, r"stride=0 is outside the supported range 1..256"),
    ({"kernel_shape": [2, 2]}, None, r"kernel_shape \[2, 2\] disagrees with the weights"),
    (None, ("MaxPool", {"kernel_shape": [2, 2], "storage_order": 1}), "storage_order=1 is not supported"),
    (None, ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2]}), r"dilations=\[2, 2\] are not supported"),
    (None, ("AveragePool", {}), "kernel_shape is required"),
    (None, ("AveragePool", {"kernel_shape": [2]}), r"kernel_shape \[2\] must have 2 values"),
    (None, ("MaxPool", {"kernel_shape": [9, 9]}), "larger than the padded 7x6 input"),
]


@pytest.mark.parametrize("conv_attrs, pool, message", REFUSED)
def test_refused_attributes_are_one_line(tmp_path, conv_attrs, pool, message):
    p = _conv_net(tmp_path / "bad.onnx", conv_attrs, pool) if conv_attrs is None or "group" not in conv_attrs else \
        _conv_net(tmp_path / "bad.onnx", conv_attrs, in_shape=(4, 7, 6), k=(3, 3))
    with pytest.raises(PnetcError, match=message) as err:
        build_graph(p, precision="float32")
    assert "\n" not in str(err.value)


def test_a_conv_on_a_flat_input_is_one_line(tmp_path):
    p = _model(tmp_path / "flat.onnx", [helper.make_node("Conv", ["x", "cw"], ["y"], name="conv")],
               {"cw": _w((3, 1, 3, 3))}, (64,))
    with pytest.raises(PnetcError, match=r"input 'x' must be \[batch, channels, height, width\], got \[batch, 64\]"):
        build_graph(p, precision="float32")


def test_a_normalisation_before_a_padded_conv_stays_exact(tmp_path):
    """Folding (x - mu) into a padded conv would shift the padding too: it runs as a 1x1 conv instead."""
    p = _conv_net(tmp_path / "shift.onnx")
    m = onnx.load(str(p))
    m.graph.node[0].input[0] = "xn"
    m.graph.node.insert(0, helper.make_node("Sub", ["xs", "mu"], ["xn"], name="sub"))
    m.graph.node.insert(0, helper.make_node("Mul", ["x", "sd"], ["xs"], name="mul"))
    m.graph.initializer.extend([numpy_helper.from_array(np.float32(0.5), "mu"),
                                numpy_helper.from_array(np.float32(1.5), "sd")])
    onnx.save(m, str(p))
    g = _check_float_and_int8(p, (2, 7, 6))
    assert [op.kind for op in g.ops] == ["Conv", "Conv", "Dense"]
    assert g.ops[0].weight.shape == (2, 2, 1, 1) and not any(g.ops[0].pads)


def test_a_scale_that_varies_inside_a_channel_is_refused(tmp_path):
    p = _conv_net(tmp_path / "vary.onnx")
    m = onnx.load(str(p))
    m.graph.node[1].input[0] = "cs"
    m.graph.node.insert(1, helper.make_node("Mul", ["c", "s"], ["cs"], name="mul"))
    m.graph.initializer.append(numpy_helper.from_array(_w((3, 7, 6), 9), "s"))
    onnx.save(m, str(p))
    with pytest.raises(PnetcError, match="'mul' after the Conv 'conv' varies inside a channel"):
        build_graph(p, precision="float32")


def test_cli_refusal_is_one_line_exit_2(tmp_path):
    p = _conv_net(tmp_path / "g.onnx", {"group": 2, "pads": [1, 1, 1, 1]}, in_shape=(4, 7, 6))
    r = subprocess.run([sys.executable, "-m", "pnetc", "compile", str(p), "--out", str(tmp_path / "o"),
                        "--precision", "float32"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("pnetc: error: ")
    assert "group=2 is not supported" in r.stderr


def test_average_pool_counting_padding_is_float32_only(tmp_path):
    """count_include_pad=1 counts padded taps as int8 0, the real zero only when the zero point is 0
    (after a ReLU it is -128): int8 is refused in one line, float32 matches onnxruntime."""
    p = _conv_net(tmp_path / "avg.onnx", pool=("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2],
                                                                "pads": [1, 1, 1, 1], "count_include_pad": 1}))
    x = _inputs((2, 7, 6))
    assert check_onnxruntime(p, build_graph(p, precision="float32"), x) < 1e-4
    with pytest.raises(PnetcError, match=r"'pool' \(AveragePool with count_include_pad=1 and pads\) has no exact int8"):
        build_graph(p, precision="int8", calib=x)


def test_pnetc_own_cnn_trainer_export_compiles(tmp_path):
    """`pnetc train --trainer cnn` writes CNNTrainer through export_trainer: an input normalisation, a
    Reshape to [1, 8, 8], two padded conv blocks and two dense layers."""
    torch = pytest.importorskip("torch")
    from pnetc.training.export import export_trainer
    from pnetc.training.models import CNNTrainer, input_affine_for

    x = mf.dense_samples(64, 64, 2).astype(np.float32)
    torch.manual_seed(0)
    trainer = CNNTrainer(input_affine_for(x), (8, 8), 10)
    export_trainer(trainer, torch.from_numpy(x), tmp_path / "trainer.onnx")
    g = build_graph(tmp_path / "trainer.onnx", precision="float32")
    assert check_onnxruntime(tmp_path / "trainer.onnx", g, x) < 1e-4
    assert [op.kind for op in g.ops] == ["Conv", "Conv", "Pool", "Conv", "Pool", "Dense", "Dense"]
    g8 = build_graph(tmp_path / "trainer.onnx", precision="int8", calib=x)
    ref = Reference(g8)
    assert (ref.run(x).predictions == ref.run(x, "float32").predictions).mean() >= 0.8


def test_pnetc_own_lstm_trainer_export_is_refused_naming_the_lstm(tmp_path):
    torch = pytest.importorskip("torch")
    from pnetc.training.export import export_trainer
    from pnetc.training.models import LSTMTrainer

    torch.manual_seed(0)
    ids, lengths = torch.randint(1, 257, (4, 20)), torch.tensor([20, 10, 5, 3])
    export_trainer(LSTMTrainer(3), (ids, lengths), tmp_path / "trainer.onnx")
    r = subprocess.run([sys.executable, "-m", "pnetc", "compile", str(tmp_path / "trainer.onnx"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "node '/lstm/LSTM' has op type 'LSTM', which pnetc does not support" in r.stderr


@pytest.mark.parametrize("kind, precision", [("cnn-bn", "int8"), ("cnn-bn", "float32"), ("conv1d", "int8")])
def test_cnn_c_equals_the_reference_under_sanitizers_and_strict_flags(tmp_path, kind, precision):
    """The generated C (conv/pool kernels, pnet_window table) builds with -Werror -pedantic and gives the
    golden interpreter's scores on every sample with ASan/UBSan."""
    pytest.importorskip("torch")
    from pnetc.compiler import compile_model
    from pnetc.evaluate import check_flavour

    p = mf.make_torch_cnn(tmp_path / f"{kind}.onnx", kind, dynamic=True)
    x = mf.dense_samples(40, 64, 6).astype(np.float32)
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=mf.dense_samples(100, 64, 4).astype(np.float32))
    cm = compile_model(p, tmp_path / "m", precision=precision, calib=str(calib) if precision == "int8" else None)
    assert "static const pnet_window model_windows[" in (cm.out_dir / "model.c").read_text()
    assert check_flavour(cm, cm.reference.run(x), x, None, "asan-ubsan", tmp_path / "b").mismatches == 0


@pytest.mark.parametrize("dynamic", [False, True])
def test_view_by_batch_size_compiles(tmp_path, dynamic):
    """x.view(x.size(0), -1): a batch-1 export reshapes to [1, -1]; a dynamic one computes [N, -1] with
    Shape -> Gather -> Unsqueeze -> Concat, which folds to [0, -1] (0: copy the batch axis)."""
    torch = pytest.importorskip("torch")
    import warnings

    class ViewNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = torch.nn.Conv2d(1, 4, 3), torch.nn.Linear(4 * 6 * 6, 3)

        def forward(self, x):
            x = torch.relu(self.conv(x))
            return self.fc(x.view(x.size(0), -1))

    torch.manual_seed(0)
    extra = dict(input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}) if dynamic else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ViewNet().eval(), torch.rand(1, 1, 8, 8), str(tmp_path / "v.onnx"), dynamo=False,
                          opset_version=17, **extra)
    ops = {n.op_type for n in onnx.load(str(tmp_path / "v.onnx")).graph.node}
    assert ("Shape" in ops) == dynamic
    g = build_graph(tmp_path / "v.onnx", precision="float32")
    assert [op.kind for op in g.ops] == ["Conv", "Dense"]
    assert check_onnxruntime(tmp_path / "v.onnx", g, _inputs((1, 8, 8))) < 1e-5


def test_shape_arithmetic_on_activations_is_refused(tmp_path):
    p = _model(tmp_path / "gather.onnx", [
        helper.make_node("Gather", ["x", "i"], ["g"], axis=1, name="pick"),
        helper.make_node("Gemm", ["g", "w"], ["y"], transB=1, name="fc"),
    ], {"i": np.array([0, 1], np.int64), "w": _w((3, 2))}, (4,))
    with pytest.raises(PnetcError, match=r"node 'pick' \(Gather\): is supported only on constants and shapes"):
        build_graph(p, precision="float32")
