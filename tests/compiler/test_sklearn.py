"""scikit-learn classifiers exported by skl2onnx (label + probabilities, ZipMap on or off) compile
as they are: the probabilities are picked (or named with --output), what leads only to the label
is dropped, and float32 and int8 builds verify and run with 0 mismatches."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import pnetc
from pnetc.errors import PnetcError
from tests.harden.conftest import assert_one_line_error, run_cli

pytest.importorskip("skl2onnx")


@pytest.fixture(scope="module")
def digits_split(tmp_path_factory):
    """digits with class names as labels (even/odd: a binary head) and all ten classes."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    d = tmp_path_factory.mktemp("sklearn")
    parity = np.array(["even", "odd"])[y % 2]
    for name, labels in (("ten", y), ("parity", parity)):
        np.savez(d / f"{name}.npz", x=x[:1400].astype(np.uint8), y=labels[:1400], x_test=x[1400:].astype(np.uint8),
                 y_test=labels[1400:])
    np.savez(d / "calib.npz", x=x[:400].astype(np.float32))
    return d, x, {"ten": y, "parity": parity}


def _export(clf, x, path, zipmap: bool):
    from skl2onnx import to_onnx

    onnx.save(to_onnx(clf, x[:1].astype(np.float32), options={id(clf): {"zipmap": zipmap}}, target_opset=17), path)
    return path


def _mlp(x, y):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((24,), max_iter=300, random_state=0).fit(x[:1400], y[:1400])


@pytest.mark.parametrize("task", ["ten", "parity"])
@pytest.mark.parametrize("zipmap", [True, False])
def test_mlp_classifier_compiles_verifies_and_runs(digits_split, task, zipmap):
    d, x, labels = digits_split
    clf = _mlp(x, labels[task])
    model = _export(clf, x, d / f"mlp-{task}-{int(zipmap)}.onnx", zipmap)
    data, calib = d / f"{task}.npz", d / "calib.npz"
    assert pnetc.load(model).labels == tuple(str(c) for c in clf.classes_)  # the exporter's class names
    sk = clf.score(x[1400:], labels[task][1400:])
    f32 = pnetc.verify(model, data=data, precision="float32", progress=False)
    assert f32.ok and f32.accuracy_float == pytest.approx(sk, abs=1e-9)  # the same answers as scikit-learn
    assert f32.onnxruntime_max_rel_diff is None or f32.onnxruntime_max_rel_diff < 1e-5
    i8 = pnetc.verify(model, data=data, precision="int8", calib=calib, progress=False)
    assert i8.ok and abs(i8.accuracy_reference - f32.accuracy_float) <= 0.01
    ran = pnetc.run(model, "host", data=data, calib=calib, progress=False)
    assert ran.ok and ran.accuracy_device == pytest.approx(i8.accuracy_reference)


def test_logistic_regression_multinomial_and_binary(digits_split):
    from sklearn.linear_model import LogisticRegression

    d, x, labels = digits_split
    for task in ("ten", "parity"):
        clf = LogisticRegression(max_iter=3000).fit(x[:1400], labels[task][:1400])
        model = _export(clf, x, d / f"lr-{task}.onnx", zipmap=True)
        r = pnetc.verify(model, data=d / f"{task}.npz", precision="float32", progress=False)
        assert r.ok and r.accuracy_float == pytest.approx(clf.score(x[1400:], labels[task][1400:]), abs=1e-9)


def test_output_option_everywhere(digits_split, tmp_path):
    d, x, labels = digits_split
    model = _export(_mlp(x, labels["ten"]), x, d / "mlp-out.onnx", zipmap=True)
    res = run_cli(["compile", str(model), "-o", str(tmp_path / "c"), "--output", "output_probability",
                   "--calib", str(d / "calib.npz")])
    assert res.code == 0, res.stderr
    assert_one_line_error(run_cli(["compile", str(model), "-o", str(tmp_path / "c2"), "--output", "output_label"]),
                          "not a float tensor of class scores", "the scores are output_probability")
    for cmd in (["verify", str(model)], ["eval", str(model)], ["run", str(model), "-b", "host"],
                ["build", str(model), "-b", "host", "-o", str(tmp_path / "b")], ["bench", str(model), "-b", "host"],
                ["inspect", str(model)], ["predict", str(model), "--data", str(d / "ten.npz")]):
        assert_one_line_error(run_cli(cmd + ["--output", "nope"]), "--output 'nope' is not an output of the model",
                              "output_label, output_probability")


def test_two_float_outputs_need_a_choice(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["a"]), helper.make_node("Relu", ["a"], ["b"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 3]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, 3])], [w])
    path = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(PnetcError, match=r"2 outputs \(a, b\).*--output NAME"):
        pnetc.load(path)
    kept = {name: pnetc.compile(path, tmp_path / name, precision="float32", output=name).compiled.graph
            for name in ("a", "b")}
    assert kept["a"].output == "a" and kept["b"].output == "b"
    assert [op.activation for op in kept["a"].ops] == ["none"]  # the Relu is cut when only "a" is wanted
    assert [op.activation for op in kept["b"].ops] == ["relu"]


@pytest.mark.parametrize("scaler", ["standard", "minmax"])
def test_a_pipeline_with_a_scaler(digits_split, scaler):
    """StandardScaler in a Pipeline exports an ai.onnx.ml Scaler: it becomes Sub + Mul by constants,
    folded into the first layer (MinMaxScaler exports Mul + Add); float32 gives scikit-learn's
    answers and verifies."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    d, x, labels = digits_split
    step = StandardScaler() if scaler == "standard" else MinMaxScaler()
    clf = make_pipeline(step, _mlp(x, labels["ten"]).set_params(max_iter=300)).fit(x[:1400], labels["ten"][:1400])
    model = _export(clf, x, d / f"pipe-{scaler}.onnx", zipmap=False)
    assert ("Scaler" in {n.op_type for n in onnx.load(model).graph.node}) == (scaler == "standard")
    f32 = pnetc.verify(model, data=d / "ten.npz", precision="float32", progress=False)
    assert f32.ok and f32.accuracy_float == pytest.approx(clf.score(x[1400:], labels["ten"][1400:]), abs=1e-9)
