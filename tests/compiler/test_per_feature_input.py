"""Float-input models whose first layer is dense take their int8 input per feature: raw features of
very different ranges (scikit-learn's wine) keep their int8 accuracy, the C matches the reference,
and the generated `<name>_quantize` gives Python's bytes on every test sample."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import pnetc
from pnetc.compiler import compile_model
from pnetc.ir.inputs import input_encoding
from tests.compiler.conftest import have
from tests.compiler.test_input_glue import check_against_python, run_glue
from tests.userplay import userdata

pytest.importorskip("sklearn")


def _torch_model(folder):
    pytest.importorskip("torch")
    return userdata.torch_wine_mlp(folder)


def _sklearn_pipeline(folder):
    """StandardScaler + MLPClassifier, exported by skl2onnx (the scaler folds into the first layer)."""
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xtr, ytr, *_ = userdata.wine()
    clf = make_pipeline(StandardScaler(), MLPClassifier((24,), max_iter=1000, random_state=0)).fit(xtr, ytr)
    path = folder / "wine_pipeline.onnx"
    onnx.save(to_onnx(clf, xtr[:1].astype(np.float32), options={id(clf): {"zipmap": False}}, target_opset=17), path)
    return path


@pytest.mark.skipif(not have("gcc"), reason="needs gcc")
@pytest.mark.parametrize("make", [_torch_model, _sklearn_pipeline], ids=["torch", "sklearn"])
def test_raw_wine_floats_keep_their_int8_accuracy(tmp_path, make):
    model = make(tmp_path)
    xtr, ytr, xte, yte, _ = userdata.wine()
    data, calib = tmp_path / "data.npz", tmp_path / "calib.npz"
    np.savez(data, x=xtr.astype(np.float32), y=ytr, x_test=xte.astype(np.float32), y_test=yte)
    np.savez(calib, x=xtr.astype(np.float32))
    cm = compile_model(model, tmp_path / "out", name="wine", precision="int8", calib=calib)
    encoding = input_encoding(cm.graph)
    assert encoding.per_feature and encoding.scale.shape == (13,)
    assert not any(w.startswith("input ") for w in cm.warnings), cm.warnings
    int8 = cm.reference.run(xte.astype(np.float32)).predictions
    float32 = cm.reference.run(xte.astype(np.float32), "float32").predictions
    acc_int8, acc_float = float(np.mean(int8 == yte)), float(np.mean(float32 == yte))
    assert acc_float >= 0.9 and acc_int8 >= acc_float - 0.01, (acc_int8, acc_float)
    result = pnetc.verify(model, data=data, calib=calib, progress=False)
    assert result.mismatches == 0 and result.samples == len(xte) and result.accuracy_c == pytest.approx(acc_int8)
    assert result.warnings == ()
    xs = xte.astype(np.float32)
    check_against_python(cm, xs, run_glue(tmp_path, cm, xs))
