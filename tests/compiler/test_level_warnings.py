"""compile/verify warn with numbers when int8 leaves input features or activations too few levels."""

from __future__ import annotations

import numpy as np

from pnetc.compiler import compile_model
from pnetc.ir.levels import level_warnings
from tests.compiler import model_factory as mf
from tests.harden.conftest import run_cli


def wide_features(n: int = 300, seed: int = 0, features: int = 30) -> np.ndarray:
    """Features from ~0.001 to ~4000 (breast_cancer's spread): one scale for all crushes most."""
    rng = np.random.default_rng(seed)
    spans = np.geomspace(1e-3, 4e3, features)
    return (spans * (1 + rng.random((n, features)))).astype(np.float32)


def test_one_scale_for_all_features_is_reported_with_numbers(tmp_path):
    """A CNN's input keeps one scale for all values (its first op is a convolution)."""
    model = mf.make_torch_cnn(tmp_path / "m.onnx", dynamic=True)
    x = wide_features(features=64)
    np.savez(tmp_path / "calib.npz", x=x.reshape(len(x), 1, 8, 8))
    res = run_cli(["compile", str(model), "-o", str(tmp_path / "out"), "--calib", str(tmp_path / "calib.npz")])
    assert res.code == 0, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("pnetc: warning: ")]
    assert len(lines) >= 1, res.stderr
    assert "input 'x':" in lines[0] and "of 64 features take at most 2 int8 levels on 300 samples" in lines[0]
    assert "one scale" in lines[0] and "for all features" in lines[0]
    count = int(lines[0].split("input 'x': ")[1].split(" of 64")[0])
    assert count >= 30  # the small-range half of the features


def test_a_dense_first_layer_takes_its_input_per_feature(tmp_path):
    """The same spread into a dense first layer: one scale per feature, so no feature collapses."""
    from pnetc.ir.inputs import input_encoding

    model = mf.make_foreign_mlp(tmp_path / "m.onnx", input_size=30, num_classes=2)
    x = wide_features()
    cm = compile_model(model, tmp_path / "out", calib=x.reshape(len(x), 1, 30))
    assert input_encoding(cm.graph).per_feature
    assert not any(w.startswith("input 'x':") for w in cm.warnings), cm.warnings
    assert not any(w.startswith("input 'x':") for w in level_warnings(cm.graph, x)), cm.warnings


def test_well_scaled_inputs_give_no_warning(tmp_path):
    model = mf.make_foreign_mlp(tmp_path / "m.onnx", input_size=30, num_classes=2)
    x = np.random.default_rng(1).standard_normal((300, 1, 30)).astype(np.float32)
    cm = compile_model(model, tmp_path / "out", calib=x)
    assert cm.warnings == []
    assert level_warnings(cm.graph, x.reshape(300, 30)) == []


def test_collapsed_activations_and_predictions_are_reported(tmp_path):
    """One outlier sample sets every feature's input scale: every other sample lands on the same codes,
    the hidden units keep 1-2 int8 values and int8 predicts one class where float32 spreads over four."""
    model = mf.make_foreign_mlp(tmp_path / "m.onnx", input_size=30, num_classes=4)
    x = np.random.default_rng(2).standard_normal((400, 30)).astype(np.float32)
    x[0] = 3e3
    cm = compile_model(model, tmp_path / "out", calib=x.reshape(400, 1, 30))
    assert len(cm.warnings) == 3, cm.warnings
    inputs, activation, predictions = cm.warnings
    assert inputs.startswith("input 'x': 30 of 30 features take at most 2 int8 levels on 400 samples")
    assert activation.startswith("activation 'r' (/1/Gemm): 16 of 16 units take at most 2 int8 levels on 400 samples")
    assert predictions.startswith("int8 predicts class 0 for 400 of 400 samples; float32's most common class takes")


def test_verify_reports_warnings_from_float_test_data(tmp_path):
    """verify takes float --data for a float-input model and counts levels on it (no --calib)."""
    model = mf.make_torch_cnn(tmp_path / "m.onnx", dynamic=True, num_classes=2)
    x = wide_features(200, seed=3, features=64)
    y = (x[:, 63] > np.median(x[:, 63])).astype(np.int64)
    np.savez(tmp_path / "data.npz", x=x.astype(np.float64), y=y)
    np.savez(tmp_path / "calib.npz", x=x.reshape(len(x), 1, 8, 8))
    res = run_cli(["verify", str(model), "--data", str(tmp_path / "data.npz"), "--calib", str(tmp_path / "calib.npz"),
                   "--json"], seconds=300)
    assert res.code == 0, res.stderr
    assert "pnetc: warning: input 'x':" in res.stderr
    import json

    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["mismatches"] == 0 and report["samples"] == 40
    assert any("features take at most 2 int8 levels" in w for w in report["warnings"])
