"""Frontend and error handling: every bad model is one `pnetc: error:` line and exit 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pnetc.compiler import build_graph, compile_model
from pnetc.errors import PnetcError
from pnetc.ir.graph import Dense
from tests.compiler import model_factory as mf


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pnetc", *map(str, args)], capture_output=True, text=True)


def _mlp(path, nodes, inits, opset=17, in_shape=("batch", 4), out="y", out_size=2):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", out_size])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def _w(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_unsupported_op_exit_2_one_line(tmp_path):
    p = _mlp(tmp_path / "conv.onnx", [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1, name="fc"),
        helper.make_node("Elu", ["h"], ["y"], name="my_elu"),
    ], [numpy_helper.from_array(_w((2, 4)), "w")])
    r = run_cli("compile", p, "-o", tmp_path / "out")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pnetc: error:")
    assert "my_elu" in lines[0] and "'Elu'" in lines[0] and "Gemm" in lines[0] and "BatchNormalization" in lines[0]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", [b"", b"not an onnx file at all \x00\xff", None])
def test_bad_files(tmp_path, models, content):
    p = tmp_path / "bad.onnx"
    if content is None:  # truncated real model
        data = models["dense"].read_bytes()
        content = data[: len(data) // 2]
    p.write_bytes(content)
    with pytest.raises(PnetcError):
        build_graph(p)
    r = run_cli("compile", p, "-o", tmp_path / "o")
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.startswith("pnetc: error:")


def test_missing_file_and_bad_options(tmp_path, models):
    for args in (["compile", tmp_path / "nope.onnx", "-o", tmp_path / "o"],
                 ["compile", models["dense"], "-o", tmp_path / "o", "--precision", "int4"],
                 ["compile", models["dense"], "-o", tmp_path / "o", "--name", "int"],
                 ["compile", models["text"], "-o", tmp_path / "o", "--projection", "table"],
                 ["compile", models["foreign"], "-o", tmp_path / "o", "--precision", "binary"],
                 ["compile", models["foreign"], "-o", tmp_path / "o", "--precision", "int8"],
                 ["compile", models["dense"], "-o", tmp_path / "o", "--calib", tmp_path / "none.npz"]):
        r = run_cli(*args)
        assert r.returncode == 2, args
        assert r.stderr.startswith("pnetc: error:") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_missing_initializer(tmp_path):
    p = _mlp(tmp_path / "m.onnx", [helper.make_node("Gemm", ["x", "w_missing"], ["y"], transB=1, name="fc")], [])
    # onnx.save accepts it; pnetc must name the dangling tensor
    with pytest.raises(PnetcError, match="w_missing"):
        build_graph(p, precision="float32")


def test_nan_weights(tmp_path):
    w = _w((2, 4))
    w[0, 1] = np.nan
    p = _mlp(tmp_path / "nan.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)],
             [numpy_helper.from_array(w, "w")])
    with pytest.raises(PnetcError, match="NaN"):
        build_graph(p, precision="float32")


def test_cycle(tmp_path):
    p = _mlp(tmp_path / "cyc.onnx", [
        helper.make_node("Add", ["x", "b"], ["y"], name="a1"),
        helper.make_node("Relu", ["y2"], ["c"], name="r"),
        helper.make_node("Relu", ["c"], ["y2"], name="r2"),
    ], [numpy_helper.from_array(_w((4,)), "b")], out_size=4)
    with pytest.raises(PnetcError, match="cycle"):
        build_graph(p, precision="float32")


def test_opset_out_of_range(tmp_path):
    p = _mlp(tmp_path / "old.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)],
             [numpy_helper.from_array(_w((2, 4)), "w")], opset=11)
    with pytest.raises(PnetcError, match="opset 11"):
        build_graph(p, precision="float32")


def test_residual_add_rejected(tmp_path):
    p = _mlp(tmp_path / "res.onnx", [
        helper.make_node("Gemm", ["x", "w"], ["h"], transB=1, name="fc"),
        helper.make_node("Add", ["h", "x"], ["y"], name="skip"),
    ], [numpy_helper.from_array(_w((4, 4)), "w")], out_size=4)
    with pytest.raises(PnetcError, match="skip"):
        build_graph(p, precision="float32")


@pytest.mark.parametrize("opset", [13, 17, 21])
def test_foreign_folding(tmp_path, opset):
    """BatchNorm folds into the Gemm, Dropout/Identity/Flatten vanish, MatMul+Add is one dense, softmax is stripped."""
    p = mf.make_foreign_mlp(tmp_path / f"f{opset}.onnx", opset=opset)
    g = build_graph(p, precision="float32")
    assert [op.kind for op in g.ops] == ["Dense", "Dense"]
    assert g.ops[0].activation == "relu" and g.output_activation == "softmax"


def test_compile_failure_leaves_old_dir(tmp_path, models):
    out = tmp_path / "out"
    compile_model(models["dense"], out)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(PnetcError):
        compile_model(models["foreign"], out, precision="binary")
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_layers_dense_types(models):
    g = build_graph(models["dense"], precision="binary")
    first = g.dense_layers()[0]
    assert isinstance(first, Dense) and first.lowering == "xnor"
    assert build_graph(models["dense"]).dense_layers()[0].lowering == "bitsum"


def test_normalisation_chain_folds(tmp_path):
    """Cast -> Mul -> Sub -> Div -> Gemm (an input normalisation, as trainer.onnx has) folds into the Gemm."""
    w = _w((2, 4))
    p = _mlp(tmp_path / "norm.onnx", [
        helper.make_node("Cast", ["x"], ["xc"], to=TensorProto.FLOAT, name="cast"),
        helper.make_node("Mul", ["xc", "s"], ["xm"], name="mul"),
        helper.make_node("Sub", ["xm", "m"], ["xs"], name="sub"),
        helper.make_node("Div", ["xs", "d"], ["xd"], name="div"),
        helper.make_node("Gemm", ["xd", "w"], ["y"], transB=1, name="fc"),
    ], [numpy_helper.from_array(np.float32(1 / 255), "s"), numpy_helper.from_array(_w((4,), 1), "m"),
        numpy_helper.from_array(np.full(4, 0.5, np.float32), "d"), numpy_helper.from_array(w, "w")])
    g = build_graph(p, precision="float32")
    assert [op.kind for op in g.ops] == ["Dense"]
    from pnetc.evaluate import check_onnxruntime

    x = np.random.default_rng(0).integers(0, 256, (16, 4)).astype(np.float32)
    assert check_onnxruntime(p, g, x) < 1e-5


def test_refuses_to_replace_user_directory(tmp_path, models):
    user = tmp_path / "project"
    user.mkdir()
    (user / "main.c").write_text("int main(void) { return 0; }\n")
    with pytest.raises(PnetcError, match="not a pnetc output"):
        compile_model(models["dense"], user)
    assert (user / "main.c").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    compile_model(models["dense"], empty)
    compile_model(models["dense"], empty, precision="float32")  # a previous output is replaced
    assert "precision=float32" in (empty / "model.c").read_text()


def test_constant_subgraph_folds_through_the_table(tmp_path):
    """Weights computed from constants (Transpose-free Mul, Sub, Tanh, Cast, Reshape) fold to one Gemm
    whose weights equal numpy's evaluation of the same expression."""
    w = _w((2, 4))
    p = _mlp(tmp_path / "fold.onnx", [
        helper.make_node("Mul", ["w", "two"], ["w2"], name="mul"),
        helper.make_node("Sub", ["w2", "one"], ["w3"], name="sub"),
        helper.make_node("Tanh", ["w3"], ["w4"], name="tanh"),
        helper.make_node("Cast", ["w4"], ["w5"], to=TensorProto.FLOAT, name="cast"),
        helper.make_node("Reshape", ["w5", "shape"], ["w6"], name="reshape"),
        helper.make_node("Gemm", ["x", "w6"], ["y"], transB=1, name="fc"),
    ], [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.float32(2), "two"),
        numpy_helper.from_array(np.float32(1), "one"), numpy_helper.from_array(np.array([2, 4], np.int64), "shape")])
    g = build_graph(p, precision="float32")
    np.testing.assert_allclose(g.ops[0].weight, np.tanh(w * 2 - 1), rtol=1e-6)


def test_constant_inputs_of_an_op_without_a_folder_are_one_line(tmp_path):
    p = _mlp(tmp_path / "nofold.onnx", [
        helper.make_node("Softmax", ["w"], ["ws"], name="soft"),
        helper.make_node("Gemm", ["x", "ws"], ["y"], transB=1, name="fc"),
    ], [numpy_helper.from_array(_w((2, 4)), "w")])
    with pytest.raises(PnetcError, match=r"node 'soft' \(Softmax\): constant inputs are not supported for this op"):
        build_graph(p, precision="float32")


def test_a_node_with_too_few_inputs_is_one_line(tmp_path):
    """Every handler reads its inputs by position: a node missing one is a one-line error, not an IndexError."""
    p = _mlp(tmp_path / "short.onnx", [helper.make_node("Gemm", ["x"], ["y"], name="fc")], [])
    with pytest.raises(PnetcError, match=r"node 'fc' \(Gemm\): has 1 inputs, fewer than the op takes"):
        build_graph(p, precision="float32")
