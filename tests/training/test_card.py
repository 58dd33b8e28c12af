"""`train` writes the model card (model.md) and records its data file, so that eval, verify, run
and bench find the data again, and refuse it, in the same words, once it is gone or changed."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import pnetc
from pnetc.errors import PnetcError
from pnetc.frontend import load_model

pytest.importorskip("torch")


def _features(path, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (240, 10))
    y = (x[:, 0] > 127).astype(int) + (x[:, 1] > 127)
    np.savez(path, x=x, y=y, labels=np.array(["low", "mid", "high"]))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    (root / "data").mkdir()
    data = _features(root / "data" / "sensors.npz")
    result = pnetc.train(str(data), root / "run", epochs=2, tables=8, bits_per_table=8, fc=[16], progress=False)
    return root, data, result


def test_the_card_describes_the_run(trained):
    root, data, result = trained
    card = (root / "run" / "model.md").read_text()
    model_sha = load_model(result.model).info.sha256
    assert f"`{model_sha}`" in card
    assert "../data/sensors.npz" in card and pnetc.load(result.model).training["data_file"]["sha256"] in card
    for label in ("low", "mid", "high"):
        assert f"| {label} |" in card
    assert "precision" in card and "F1" in card and "int8" in card and "float32" in card
    assert "64 bits (T=8 x d=8, binary)" in card and "| fc | [16] |" in card
    manifest = json.loads((root / "run" / ".pnetc-manifest.json").read_text())
    assert manifest["files"]["model.md"]["command"] == "train"  # pnetc's file: replaced by --force, never a user's


def test_recorded_data_file_is_found_again(trained):
    root, data, result = trained
    record = pnetc.load(result.model).training["data_file"]
    assert record["path"] == "../data/sensors.npz"  # relative: the pair moves together
    r = pnetc.eval(result.model)
    assert r.dataset == "sensors" and r.samples > 0
    assert pnetc.run(result.model, "host", limit=3).mismatches == 0
    moved = root / "moved"
    shutil.copytree(root / "data", moved / "data")
    shutil.copytree(root / "run", moved / "run")
    assert pnetc.eval(moved / "run" / "model.onnx").samples == r.samples


def test_gone_or_changed_data_is_refused_in_the_same_words(trained, tmp_path):
    root, data, result = trained
    (tmp_path / "data").mkdir()
    shutil.copytree(root / "run", tmp_path / "run")
    model = tmp_path / "run" / "model.onnx"
    calls = (lambda: pnetc.eval(model), lambda: pnetc.verify(model), lambda: pnetc.run(model, "host"),
             lambda: pnetc.bench(model, "host"))
    for call in calls:
        with pytest.raises(PnetcError, match=r"trained on .*sensors\.npz, which no longer exists; pass --data FILE"):
            call()
    _features(tmp_path / "data" / "sensors.npz", seed=1)
    for call in calls:
        with pytest.raises(PnetcError, match=r"sensors\.npz, which has changed since \(its sha256 differs\)"):
            call()


def test_a_model_md_of_yours_is_never_replaced(tmp_path):
    data = _features(tmp_path / "d.npz")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.md").write_text("my notes")
    with pytest.raises(PnetcError, match="model.md"):
        pnetc.train(str(data), tmp_path / "run", epochs=1, tables=4, bits_per_table=8, fc=[0], force=True,
                    progress=False)
    assert (tmp_path / "run" / "model.md").read_text() == "my notes"


def test_builtin_data_records_no_file(tmp_path):
    from pnetc.datasets.recorded import data_file_record

    assert data_file_record("digits", tmp_path) is None
