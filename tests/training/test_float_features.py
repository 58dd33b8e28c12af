"""Float features: CSV columns, NPZ float x and numpy arrays are quantized per feature on the training
split (pnetc.quantization), the model stores the encoding, and data for it is quantized with the
model's encoding, never with one fitted on that data."""

from __future__ import annotations

import csv
import json

import numpy as np
import onnx
import pytest

from pnetc.datasets import from_arrays, load_dataset
from pnetc.errors import PnetcError
from pnetc.quantization import fit_features
from tests.harden.conftest import assert_one_line_error, run_cli


def sensor_data(n: int = 240, seed: int = 0):
    """Features on very different scales (the case one global scale ruins), a constant one, 3 classes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = np.stack([
        143.5 + 2000 * rng.random(n) + 300 * y,   # large, all positive
        0.05 + 0.04 * rng.random(n) + 0.01 * y,   # tiny range
        -3 + rng.standard_normal(n) + y,          # negative values
        np.full(n, 7.25),                         # constant
    ], axis=1)
    return x, y


def write_csv(path, x, y, header=None, extra_row=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header or [f"f{j}" for j in range(x.shape[1])] + ["label"])
        for row, label in zip(x, y):
            w.writerow([repr(float(v)) for v in row] + [f"class{label}"])
        if extra_row:
            w.writerow(extra_row)
    return path


def test_float_npz_is_quantized_per_feature(tmp_path):
    x, y = sensor_data()
    np.savez(tmp_path / "s.npz", x=x, y=y)
    ds = load_dataset(str(tmp_path / "s.npz"))
    assert ds.encoding is not None and ds.x_train.dtype == np.uint8
    want = fit_features(ds.x_train_raw)
    np.testing.assert_array_equal(ds.encoding.scale, want.scale)
    np.testing.assert_array_equal(ds.x_train, want.quantize(ds.x_train_raw))
    np.testing.assert_array_equal(ds.x_test, want.quantize(ds.x_test_raw))
    # every non-constant feature spans the whole uint8 range on the training split
    assert ds.x_train[:, :3].min(axis=0).tolist() == [0, 0, 0]
    assert ds.x_train[:, :3].max(axis=0).tolist() == [255, 255, 255]
    assert len(np.unique(ds.x_train[:, 3])) == 1  # the constant feature: one level, no error
    assert len(np.unique(ds.x_train[:, 1])) > 100  # the tiny-range feature keeps its resolution (one global scale: 1)


def test_csv_columns_and_arrays_give_the_npz_encoding(tmp_path):
    x, y = sensor_data()
    np.savez(tmp_path / "s.npz", x=x, y=np.array([f"class{v}" for v in y]))
    from_npz = load_dataset(str(tmp_path / "s.npz"))
    from_csv = load_dataset(str(write_csv(tmp_path / "s.csv", x, y)))
    from_api = from_arrays(x, np.array([f"class{v}" for v in y]))
    for ds in (from_csv, from_api):
        assert ds.task == "features" and ds.labels == from_npz.labels
        np.testing.assert_array_equal(ds.x_train, from_npz.x_train)
        np.testing.assert_array_equal(ds.encoding.zero_point, from_npz.encoding.zero_point)


def test_integer_levels_stay_as_they_are(tmp_path):
    x = np.arange(40 * 3).reshape(40, 3) % 200
    np.savez(tmp_path / "q.npz", x=x.astype(np.float64), y=np.arange(40) % 2)
    ds = load_dataset(str(tmp_path / "q.npz"))
    assert ds.encoding is None and ds.x_train_raw is None


@pytest.mark.parametrize("case, needles", [
    ("nan_csv", ["line 3", "column 'f1'", "'nan'", "finite"]),
    ("inf_npz", ["sample 2, feature 0", "inf", "finite"]),
    ("short_row", ["expected 5 fields, found 3", "4 features, a label"]),
    ("word_csv", ["column 'f2' holds 'abc', not a number"]),
    ("scale_with_floats", ["'scale'/'zero_point' describe quantized integer features"]),
    ("too_big_for_float32", ["beyond the float32 range"]),
])
def test_bad_float_data_is_one_line(tmp_path, case, needles):
    x, y = sensor_data(30)
    if case == "nan_csv":
        path = write_csv(tmp_path / "d.csv", x, y)
        lines = path.read_text().splitlines()
        lines[2] = lines[2].replace(lines[2].split(",")[1], "nan", 1)
        path.write_text("\n".join(lines) + "\n")
        needles = [n.replace("'nan'", "nan") for n in needles]
    elif case == "inf_npz":
        x[2, 0] = np.inf
        np.savez(path := tmp_path / "d.npz", x=x, y=y)
    elif case == "short_row":
        path = write_csv(tmp_path / "d.csv", x, y, extra_row=["1.0", "2.0", "class0"])
    elif case == "word_csv":
        path = write_csv(tmp_path / "d.csv", x, y, extra_row=["1.0", "2.0", "abc", "3", "class0"])
    elif case == "scale_with_floats":
        np.savez(path := tmp_path / "d.npz", x=x, y=y, scale=0.5)
    else:
        x[0, 0] = 1e300
        np.savez(path := tmp_path / "d.npz", x=x, y=y)
    res = run_cli(["train", "--dataset", str(path), "--out", str(tmp_path / "out"), "--epochs", "1"])
    line = assert_one_line_error(res, *needles)
    assert "d." in line


def test_trained_model_stores_the_encoding_and_eval_uses_it(tmp_path):
    """pnetc.train((x, y)) on floats: the metadata holds the training split's encoding; eval of another
    float file (whose own min/max differ) quantizes with the model's encoding, not with the file's."""
    import pnetc

    x, y = sensor_data()
    result = pnetc.train((x, y), tmp_path / "m", epochs=2, tables=4, bits_per_table=16, fc=[16], progress=False)
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(result.model)).metadata_props}
    ds = from_arrays(x, y)
    assert meta["pnetc.input"]["feature_scale"] == [float(v) for v in ds.encoding.scale]
    assert meta["pnetc.input"]["feature_zero_point"] == [int(v) for v in ds.encoding.zero_point]

    sub = slice(0, 60)  # its own min/max differ from the training split's
    np.savez(tmp_path / "part.npz", x=x[sub], y=y[sub], x_test=x[sub], y_test=y[sub])
    assert not np.array_equal(load_dataset(str(tmp_path / "part.npz")).encoding.scale, ds.encoding.scale)
    got = pnetc.load(result.model)
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    graph = build_graph(result.model, precision="float32")
    want = Reference(graph).run(ds.encoding.quantize(x[sub])).predictions
    res = run_cli(["eval", str(result.model), "--data", str(tmp_path / "part.npz"), "--json"])
    assert res.code == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1])["accuracy"] == pytest.approx(float(np.mean(want == y[sub])))
    assert got is not None
    run = run_cli(["run", str(result.model), "-b", "host", "--data", str(tmp_path / "part.npz"), "--json"], seconds=300)
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["samples"] == 60 and report["mismatches"] == 0

    # a model trained on integer levels refuses float data with one line
    np.savez(tmp_path / "levels.npz", x=(np.arange(60 * 4).reshape(60, 4) % 200), y=np.arange(60) % 3)
    levels = pnetc.train(str(tmp_path / "levels.npz"), tmp_path / "lm", epochs=1, tables=2, bits_per_table=8,
                         fc=[8], progress=False)
    assert_one_line_error(run_cli(["eval", str(levels.model), "--data", str(tmp_path / "part.npz")]),
                          "holds float features", "quantized levels 0..255")


def test_api_refuses_bad_arrays():
    import pnetc

    with pytest.raises(PnetcError, match="finite"):
        pnetc.train((np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), np.array([0, 1, 0])), epochs=1)
    with pytest.raises(PnetcError, match=r"\(x, y\) or \(x, y, x_test, y_test\)"):
        pnetc.train((np.zeros((3, 2)),), epochs=1)
