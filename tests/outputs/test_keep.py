"""`verify --keep DIR` and `run -o DIR` rewrite their folder as one transaction: a new model never
meets the files (the host harness, the firmware) of the previous one."""

from __future__ import annotations

from tests.compiler import model_factory as mf
from tests.outputs.conftest import run_cli, snapshot


def test_verify_keep_twice_with_different_models(tmp_path, small_models):
    keep = tmp_path / "keep"
    r = run_cli(["verify", str(small_models["small"]), "--data", str(small_models["data"]), "--limit", "16",
                 "--keep", str(keep)], 180)
    assert r.code == 0, r.stderr
    first = snapshot(keep)
    four = mf.make_dense_model(tmp_path / "four.onnx", num_bits=64, num_classes=4, hidden=(12,), seed=8)
    data = mf.write_dense_npz(tmp_path / "four.npz", num_classes=4)
    r = run_cli(["verify", str(four), "--data", str(data), "--limit", "16", "--keep", str(keep)], 180)
    assert r.code == 0, r.stderr + r.stdout  # a reused harness of the old model would mismatch
    second = snapshot(keep)
    main = "signed-char/build/firmware_main.c"  # the host board's firmware main, rendered for each model
    assert main in first and first[main] != second[main]


def test_run_out_twice_replaces_its_own_files(tmp_path, small_models):
    out = tmp_path / "run"
    args = ["run", "-b", "host", "--data", str(small_models["data"]), "--limit", "8", "-o", str(out)]
    r = run_cli([args[0], str(small_models["small"]), *args[1:]], 180)
    assert r.code == 0, r.stderr
    first = snapshot(out)
    r = run_cli([args[0], str(small_models["other"]), *args[1:]], 180)
    assert r.code == 0, r.stderr
    second = snapshot(out)
    assert first["model/model_weights.c"] != second["model/model_weights.c"]
    assert set(first) == set(second)  # the same layout, no leftovers
