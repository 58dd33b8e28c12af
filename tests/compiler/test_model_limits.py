"""Every size a model file can set has a documented limit (pnetc/ir/limits.py): just over the limit
is one `pnetc: error:` line naming the attribute, its value and the limit; at the limit the model
compiles and the numpy reference runs on it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pnetc.compiler import build_graph, compile_model
from pnetc.errors import PnetcError
from pnetc.ir import limits as L
from pnetc.ir.interpret import Reference


def _save(path, nodes, inits, inputs, outputs, opsets=(("", 17),)):
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    path.write_bytes(model.SerializeToString())
    return path


def projection_model(path, *, n=64, num_bits=64, kind="binary", classes=2, **attrs):
    """uint8 x [batch, n] -> HashProjection -> Gemm -> logits (float32 weights; compile with float32)."""
    attrs = {"seed": 7, "num_bits": num_bits, "kind": kind, **attrs}
    w = (np.random.default_rng(0).standard_normal((classes, num_bits)) / 8).astype(np.float32)
    return _save(path, [
        helper.make_node("HashProjection", ["x", "mean"], ["bits"], domain="ai.pnetc", name="projection", **attrs),
        helper.make_node("Gemm", ["bits", "w"], ["logits"], transB=1, name="head"),
    ], [numpy_helper.from_array(np.full(n, 128, np.int16), "mean"), numpy_helper.from_array(w, "w")],
        [helper.make_tensor_value_info("x", TensorProto.UINT8, ["batch", n])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        opsets=(("", 17), ("ai.pnetc", 1)))


def text_model(path, **attrs):
    attrs = {"seed": 3, "num_bits": 32, "char_max_n": 3, "words": 1, **attrs}
    w = np.ones((2, attrs["num_bits"]), np.float32)
    return _save(path, [
        helper.make_node("TextProjection", ["text"], ["bits"], domain="ai.pnetc", name="projection", **attrs),
        helper.make_node("Gemm", ["bits", "w"], ["logits"], transB=1, name="head"),
    ], [numpy_helper.from_array(w, "w")], [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])], opsets=(("", 17), ("ai.pnetc", 1)))


def mlp(path, widths, extra_nodes=0):
    """Float x [batch, widths[0]] -> Gemm chain (ReLU between) -> y; `extra_nodes` Identity nodes at the end."""
    rng = np.random.default_rng(1)
    nodes, inits, cur = [], [], "x"
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        inits.append(numpy_helper.from_array((rng.standard_normal((b, a)) / np.sqrt(a)).astype(np.float32), f"w{i}"))
        nodes.append(helper.make_node("Gemm", [cur, f"w{i}"], [f"h{i}"], transB=1, name=f"fc{i}"))
        cur = f"h{i}"
        if i < len(widths) - 2:
            nodes.append(helper.make_node("Relu", [cur], [f"r{i}"], name=f"relu{i}"))
            cur = f"r{i}"
    for j in range(extra_nodes):
        nodes.append(helper.make_node("Identity", [cur], [f"id{j}"], name=f"id{j}"))
        cur = f"id{j}"
    nodes[-1].output[0] = "y"
    return _save(path, nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", widths[0]])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", widths[-1]])])


def refused(path, *needles, precision="float32", calib=None):
    with pytest.raises(PnetcError) as info:
        build_graph(path, precision=precision, calib=calib)
    msg = str(info.value)
    assert "\n" not in msg and "outside the supported range" in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def compiles(path, tmp_path, samples, precision="float32", calib=None):
    """At the limit: compiles to C, and the reference runs on a few samples."""
    compiled = compile_model(path, tmp_path / f"out_{path.stem}", precision=precision, calib=calib)
    assert (tmp_path / f"out_{path.stem}" / "model.c").is_file()
    out = Reference(compiled.graph).run(samples)
    assert out.predictions.shape == (len(samples),)
    return compiled


def _u8(n, rows=3):
    return np.random.default_rng(2).integers(0, 256, (rows, n)).astype(np.uint8)


def test_num_bits(tmp_path):
    n = L.MAX_PROJECTION_WORK // L.MAX_BITS  # 128 inputs: B * N exactly at the work limit
    compiles(projection_model(tmp_path / "at.onnx", n=n, num_bits=L.MAX_BITS), tmp_path, _u8(n))
    refused(projection_model(tmp_path / "over.onnx", n=8, num_bits=L.MAX_BITS + 1),
            "'projection'", f"num_bits={L.MAX_BITS + 1}", f"1..{L.MAX_BITS}")
    refused(text_model(tmp_path / "text_over.onnx", num_bits=L.MAX_BITS + 1), f"num_bits={L.MAX_BITS + 1}")


@pytest.mark.parametrize("nnz", [65, 0, 2**31 - 1, 10**8])
def test_nnz_over(tmp_path, nnz):
    refused(projection_model(tmp_path / "m.onnx", n=64, kind="ternary", nnz=nnz), f"nnz={nnz}", "1..64")


def test_nnz_at_input_size(tmp_path):
    compiles(projection_model(tmp_path / "m.onnx", n=64, kind="ternary", nnz=64), tmp_path, _u8(64))


def test_nnz_reported_values_exit_2_in_the_cli(tmp_path):
    """The issue's cases: 2^31-1 compiled into overflowing C, 10^8 made eval allocate 60 GiB."""
    for nnz in (2**31 - 1, 10**8):
        m = projection_model(tmp_path / f"m{nnz}.onnx", n=64, kind="ternary", nnz=nnz)
        r = subprocess.run([sys.executable, "-m", "pnetc", "compile", m, "-o", tmp_path / "o", "--precision",
                            "float32"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and f"nnz={nnz}" in r.stderr, r.stderr


def test_projection_work(tmp_path):
    # binary: B * N
    refused(projection_model(tmp_path / "bin.onnx", n=129, num_bits=L.MAX_BITS),
            f"num_bits*N={129 * L.MAX_BITS}", f"1..{L.MAX_PROJECTION_WORK}")
    # ternary: B * nnz, at the largest input and nnz
    n = L.MAX_INPUT_SIZE
    bits = L.MAX_PROJECTION_WORK // n
    refused(projection_model(tmp_path / "ter_over.onnx", n=n, num_bits=bits + 1, kind="ternary", nnz=n),
            f"num_bits*nnz={(bits + 1) * n}")
    compiles(projection_model(tmp_path / "ter_at.onnx", n=n, num_bits=bits, kind="ternary", nnz=n), tmp_path,
             _u8(n, 2))


def test_input_size(tmp_path):
    n = L.MAX_INPUT_SIZE
    compiles(mlp(tmp_path / "at.onnx", [n, 2]), tmp_path, np.zeros((2, n), np.float32))
    refused(mlp(tmp_path / "over.onnx", [n + 1, 2]), f"features={n + 1}", f"1..{n}")
    refused(projection_model(tmp_path / "proj_over.onnx", n=n + 1, num_bits=8), f"features={n + 1}")


def test_layer_width(tmp_path):
    w = L.MAX_LAYER_WIDTH
    compiles(mlp(tmp_path / "at.onnx", [2, w, 2]), tmp_path, np.ones((2, 2), np.float32))
    refused(mlp(tmp_path / "over.onnx", [2, w + 1, 2]), "'fc0'", f"outputs={w + 1}", f"1..{w}")


def test_int8_dense_inputs(tmp_path):
    n = L.MAX_INT8_DENSE_INPUTS
    calib = np.random.default_rng(3).standard_normal((4, n)).astype(np.float32)
    compiles(mlp(tmp_path / "at.onnx", [n, 2]), tmp_path, calib, precision="int8", calib=calib)
    refused(mlp(tmp_path / "over.onnx", [n + 1, 2]), "'fc0'", f"inputs={n + 1}", f"1..{n}",
            precision="int8", calib=np.ones((2, n + 1), np.float32))
    build_graph(mlp(tmp_path / "over_f.onnx", [n + 1, 2]), precision="float32")  # float32 has no such bound


def test_total_dense_weights(tmp_path):
    # 2048 * 2046 + 2046 * 2 = 4,194,300 <= 2^22 < 2048 * 2047 + 2047 * 2
    at = build_graph(mlp(tmp_path / "at.onnx", [2048, 2046, 2]), precision="float32")
    assert sum(op.weight.size for op in at.dense_layers()) <= L.MAX_DENSE_WEIGHTS
    refused(mlp(tmp_path / "over.onnx", [2048, 2047, 2]), "'fc1'", "total dense weights=4196350",
            f"0..{L.MAX_DENSE_WEIGHTS}")


def test_node_count(tmp_path):
    compiles(mlp(tmp_path / "at.onnx", [4, 2], extra_nodes=L.MAX_NODES - 1), tmp_path, np.ones((1, 4), np.float32))
    refused(mlp(tmp_path / "over.onnx", [4, 2], extra_nodes=L.MAX_NODES), f"nodes={L.MAX_NODES + 1}",
            f"1..{L.MAX_NODES}")


@pytest.mark.parametrize("seed, ok", [(0, True), (L.MAX_SEED, True), (L.MAX_SEED + 1, False), (-1, False)])
def test_seed(tmp_path, seed, ok):
    for make in (projection_model, text_model):
        path = make(tmp_path / f"{make.__name__}.onnx", seed=seed)
        if ok:
            assert build_graph(path, precision="float32").projection.seed == seed
        else:
            refused(path, f"seed={seed}", f"0..{L.MAX_SEED}")


def test_text_attributes(tmp_path):
    compiles(text_model(tmp_path / "at.onnx", char_max_n=L.MAX_CHAR_N), tmp_path, [b"hello world", b""])
    refused(text_model(tmp_path / "cmn.onnx", char_max_n=L.MAX_CHAR_N + 1), "char_max_n=6", "0..5")
    refused(text_model(tmp_path / "words.onnx", words=2), "words=2", "0..1")


def test_table_shape_attributes(tmp_path):
    build_graph(projection_model(tmp_path / "at.onnx", T=L.MAX_BITS, d=1), precision="float32")
    refused(projection_model(tmp_path / "t.onnx", T=L.MAX_BITS + 1), f"T={L.MAX_BITS + 1}")
    refused(text_model(tmp_path / "d.onnx", d=-1), "d=-1")


def test_binary_projection_ignores_nnz(tmp_path):
    """nnz means nothing to a binary projection: a hostile value never reaches the C."""
    g = build_graph(projection_model(tmp_path / "m.onnx", nnz=2**31 - 1), precision="float32")
    assert g.projection.nnz == 0


def test_model_file_size(tmp_path):
    big = tmp_path / "big.onnx"
    with open(big, "wb") as f:
        f.truncate(L.MAX_TENSOR_DATA_BYTES + 1)
    with pytest.raises(PnetcError, match=f"larger than {L.MAX_TENSOR_DATA_BYTES} bytes"):
        build_graph(big)


def test_reference_memory_is_blocked(tmp_path, monkeypatch):
    """The reference expands projection matrices and batches in blocks; tiny blocks give the same
    bits and scores as one block (binary, ternary and text projections, int8 and float32)."""
    from pnetc import kernels
    from tests.compiler import model_factory as mf

    cases = [
        (mf.make_dense_model(tmp_path / "b.onnx", num_bits=200), mf.dense_samples(40, 64)),
        (mf.make_dense_model(tmp_path / "t.onnx", kind="ternary", num_bits=72), mf.dense_samples(40, 64)),
        (mf.make_text_model(tmp_path / "x.onnx", num_bits=96), mf.text_samples(20)[0]),
    ]
    for path, x in cases:
        for precision in ("int8", "float32"):
            g = build_graph(path, precision=precision)
            whole = Reference(g).run(x)
            trace_whole: dict = {}
            Reference(g).run(x, "float32", trace=trace_whole)
            with monkeypatch.context() as m:
                m.setattr(kernels, "BLOCK_ELEMENTS", 7)
                assert Reference(g)._rows_per_block() == 1
                blocked = Reference(g).run(x)
                ref = Reference(g)
                np.testing.assert_array_equal(ref.bits(x), ref._bits_block(ref.check_input(x)))
                trace_blocked: dict = {}
                Reference(g).run(x, "float32", trace=trace_blocked)
            for field in ("bits", "scores", "predictions"):
                np.testing.assert_array_equal(getattr(blocked, field), getattr(whole, field))
            assert trace_blocked.keys() == trace_whole.keys()
            for key, value in trace_whole.items():
                if value is not None:
                    np.testing.assert_array_equal(trace_blocked[key], value)


def test_one_line_cli_error(tmp_path):
    m = projection_model(tmp_path / "m.onnx", num_bits=L.MAX_BITS + 1)
    r = subprocess.run([sys.executable, "-m", "pnetc", "compile", m, "-o", tmp_path / "o"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("pnetc: error:") and r.stderr.count("\n") == 1, r.stderr
    assert onnx.load(str(m))  # the file itself is a valid ONNX model: only the limit refuses it


@pytest.mark.parametrize("hashes", [0, -1, L.MAX_TEXT_HASHES + 1, 2**31 - 1, 10**12])
def test_presence_hashes_over(tmp_path, hashes):
    refused(text_model(tmp_path / "m.onnx", kind="presence", hashes=hashes), f"hashes={hashes}",
            f"1..{L.MAX_TEXT_HASHES}")


def test_presence_hashes_missing(tmp_path):
    refused(text_model(tmp_path / "m.onnx", kind="presence"), "hashes=0", f"1..{L.MAX_TEXT_HASHES}")


@pytest.mark.parametrize("num_bits", [1, 33, 1000, L.MAX_BITS])
def test_presence_any_num_bits(tmp_path, num_bits):
    """The multiply-shift maps onto any bit count: none needs to be a multiple of 32."""
    from pnetc import hashing

    texts = [b"hello world", b"", b"\xff\x80 odd bytes"]
    compiled = compiles(text_model(tmp_path / "m.onnx", kind="presence", hashes=L.MAX_TEXT_HASHES,
                                   num_bits=num_bits), tmp_path, texts)
    bits = Reference(compiled.graph).run(texts).bits
    want = np.stack([hashing.presence_bits(t, 3, num_bits, L.MAX_TEXT_HASHES) for t in texts])
    np.testing.assert_array_equal(bits, want)
    assert want.any()
    from pnetc.ir.summary import describe_op

    assert describe_op(compiled.graph.projection).startswith(f"presence text projection (8 hashes) -> {num_bits} bits")


@pytest.mark.parametrize("kind", ["binary", "Presence", "", "simhash\x00"])
def test_text_projection_kind_unknown(tmp_path, kind):
    with pytest.raises(PnetcError, match="kind must be one of 'simhash', 'presence'") as info:
        build_graph(text_model(tmp_path / "m.onnx", kind=kind), precision="float32")
    assert "\n" not in str(info.value)


def test_simhash_ignores_hashes(tmp_path):
    """hashes means nothing to a simhash projection: a hostile value never reaches the C."""
    g = build_graph(text_model(tmp_path / "m.onnx", hashes=2**31 - 1), precision="float32")
    assert g.projection.proj_kind == "simhash" and g.projection.hashes == 0


def test_presence_hostile_hashes_exit_2_in_the_cli(tmp_path):
    m = text_model(tmp_path / "m.onnx", kind="presence", hashes=10**9)
    r = subprocess.run([sys.executable, "-m", "pnetc", "compile", m, "-o", tmp_path / "o"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("pnetc: error:") and r.stderr.count("\n") == 1, r.stderr
    assert "hashes=1000000000" in r.stderr


@pytest.mark.parametrize("value", [2.7, 2.0, float("inf"), float("nan"), "7"])
@pytest.mark.parametrize("key", ["num_bits", "seed", "T", "d"])
def test_projection_integer_attributes_must_be_integers(tmp_path, key, value):
    """An INT attribute given as a float or string is refused, never truncated (2.7 -> 2) or crashed on (inf)."""
    path = projection_model(tmp_path / "m.onnx", T=8, d=8)
    model = onnx.load(str(path))
    node = model.graph.node[0]
    node.attribute.remove(next(a for a in node.attribute if a.name == key))
    node.attribute.append(helper.make_attribute(key, value))
    onnx.save(model, str(path))
    with pytest.raises(PnetcError, match=f"attribute '{key}' must be an integer") as info:
        build_graph(path, precision="float32")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("key", ["hashes", "char_max_n", "words"])
def test_text_integer_attributes_must_be_integers(tmp_path, key):
    with pytest.raises(PnetcError, match=f"attribute '{key}' must be an integer"):
        build_graph(text_model(tmp_path / "m.onnx", **{"kind": "presence", "hashes": 2, key: float("inf")}),
                    precision="float32")


def test_infinite_integer_attribute_exits_2_in_the_cli(tmp_path):
    m = projection_model(tmp_path / "m.onnx", kind="ternary", nnz=float("inf"))
    r = subprocess.run([sys.executable, "-m", "pnetc", "compile", m, "-o", tmp_path / "o"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("pnetc: error:") and r.stderr.count("\n") == 1, r.stderr
    assert "attribute 'nnz' must be an integer" in r.stderr
