"""`pnetc eval` (per-class precision/recall/F1, confusion matrix, --plot) and `pnetc predict`
(the golden interpreter's labels for the user's own inputs), in the API and on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

import pnetc
from pnetc.errors import PnetcError
from tests.compiler import model_factory as mf
from tests.harden.conftest import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("eval-predict")
    return {"dense": mf.make_dense_model(d / "dense.onnx"), "text": mf.make_text_model(d / "text.onnx"),
            "foreign": mf.make_foreign_mlp(d / "foreign.onnx"), "dense_npz": mf.write_dense_npz(d / "dense.npz"),
            "text_jsonl": mf.write_text_jsonl(d / "text.jsonl")}


def test_eval_figures_agree_with_the_predictions(models):
    r = pnetc.eval(models["dense"], data=models["dense_npz"])
    confusion = np.array(r.confusion)
    assert confusion.sum() == r.samples and np.trace(confusion) / r.samples == pytest.approx(r.accuracy)
    for i, label in enumerate(r.labels):
        row = r.per_class[label]
        assert row["samples"] == confusion[i].sum() and row["predicted"] == confusion[:, i].sum()
        if row["predicted"]:
            assert row["precision"] == pytest.approx(confusion[i, i] / confusion[:, i].sum())


def test_eval_cli_text_json_and_plot(models, tmp_path):
    png = tmp_path / "cm.png"
    res = run_cli(["eval", str(models["text"]), "--data", str(models["text_jsonl"]), "--plot", str(png)])
    assert res.code == 0, res.stderr
    assert "precision" in res.stdout and "recall" in res.stdout and "confusion matrix" in res.stdout
    if pytest.importorskip("matplotlib"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    res = run_cli(["eval", str(models["text"]), "--data", str(models["text_jsonl"]), "--json"])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(out["per_class"]["de"]) >= {"precision", "recall", "f1", "samples"}
    assert len(out["confusion"]) == len(out["labels"]) == 3 and out["macro_f1"] is not None


def test_plot_never_overwrites_a_file_pnetc_did_not_draw(models, tmp_path):
    """--plot onto a user's file is one line and exit 2, the file untouched; pnetc's own picture
    (its PNG says so) is redrawn."""
    pytest.importorskip("matplotlib")
    args = ["eval", str(models["text"]), "--data", str(models["text_jsonl"]), "--plot"]
    theirs = tmp_path / "holiday.png"
    theirs.write_bytes(b"\x89PNG\r\n\x1a\n the user's own picture")
    res = run_cli([*args, str(theirs)])
    assert res.code == 2 and "pnetc did not draw it" in res.stderr, res.stderr
    assert theirs.read_bytes() == b"\x89PNG\r\n\x1a\n the user's own picture"
    ours = tmp_path / "cm.png"
    assert run_cli([*args, str(ours)]).code == 0
    first = ours.stat().st_mtime_ns
    assert run_cli([*args, str(ours)]).code == 0 and ours.stat().st_mtime_ns >= first


def test_predict_text_matches_the_reference(models):
    texts, _ = mf.text_samples(8)
    texts = [t for t in texts if t]
    got = pnetc.predict(models["text"], [t.decode("utf-8", errors="surrogateescape") for t in texts])
    cm = pnetc.compile(models["text"], models["text"].parent / "c-text", precision="float32")
    want = cm.reference.run(texts).predictions
    assert [p["class"] for p in got.predictions] == want.tolist()
    assert got.predicted_labels == [got.labels[c] for c in want]


def test_predict_cli_texts_and_json(models):
    res = run_cli(["predict", str(models["text"]), "der die das und", "le la les et", "--json"])
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["samples"] == 2 and all(p["label"] in out["labels"] for p in out["predictions"])
    res = run_cli(["predict", str(models["text"]), "der die das und"])
    assert res.stdout.strip().split("\t")[0] == "0"


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv"])
def test_predict_feature_files_in_file_order(models, tmp_path, suffix):
    x = mf.dense_samples(7, seed=3)
    path = tmp_path / f"x{suffix}"
    if suffix == ".npz":
        np.savez(path, x=x)
    elif suffix == ".npy":
        np.save(path, x)
    else:
        header = ",".join(f"f{i}" for i in range(x.shape[1])) + ",label\n"
        path.write_text(header + "".join(",".join(map(str, row)) + ",cat\n" for row in x))
    got = pnetc.predict(models["dense"], data=path, precision="int8")
    cm = pnetc.compile(models["dense"], tmp_path / "c", precision="int8")
    assert [p["class"] for p in got.predictions] == cm.reference.run(x).predictions.tolist()


def test_predict_float_model_takes_floats(models, tmp_path):
    x = np.random.default_rng(0).normal(size=(5, 20)).astype(np.float32)
    np.savez(tmp_path / "f.npz", x=x)
    got = pnetc.predict(models["foreign"], data=tmp_path / "f.npz")
    assert got.samples == 5


@pytest.mark.parametrize("args, needle", [
    (["predict", "{dense}", "some text"], "not text: pass --data FILE"),
    (["predict", "{text}"], "give the texts to classify"),
    (["predict", "{dense}", "--data", "{missing}.npz"], "does not exist"),
    (["predict", "{dense}", "--data", "{tmp}/x.txt"], "reads .npz, .npy, .csv"),
    (["predict", "{dense}", "--data", "{tmp}/wide.npz"], "takes 64 input values per sample, got 3"),
    (["predict", "{dense}", "--data", "{tmp}/frac.npz"], "non-integer"),
    (["eval", "{dense}", "--data", "{npz}", "--plot", "{tmp}/cm.jpg"], "PNG"),
])
def test_bad_inputs_are_one_line(models, tmp_path, args, needle):
    (tmp_path / "x.txt").write_text("hello\n")
    np.savez(tmp_path / "wide.npz", x=np.zeros((2, 3)))
    np.savez(tmp_path / "frac.npz", x=np.full((2, 64), 0.5))
    if "PNG" == needle:
        pytest.importorskip("matplotlib")
    fill = {"dense": models["dense"], "text": models["text"], "missing": tmp_path / "nope", "tmp": tmp_path,
            "npz": models["dense_npz"]}
    assert_one_line_error(run_cli([a.format(**fill) for a in args]), needle)


def test_no_recorded_data_is_the_same_words_everywhere(models):
    """A model without a record of its data: every command says the same thing."""
    for call in (lambda: pnetc.eval(models["dense"]), lambda: pnetc.verify(models["dense"]),
                 lambda: pnetc.run(models["dense"], "host")):
        with pytest.raises(PnetcError, match=r"pass --dataset NAME or --data FILE \(the model does not record"):
            call()


def test_inspect_describes_text_input_without_a_size(models):
    res = run_cli(["inspect", str(models["text"])])
    assert res.code == 0, res.stderr
    assert "text input (UTF-8 bytes" in res.stdout and "input of 0" not in res.stdout


def test_inspect_and_verify_name_no_projection_for_an_mlp(models, capsys):
    from rich.console import Console

    from pnetc.evaluate import VerifyResult
    from pnetc.report import print_verify

    res = run_cli(["inspect", str(models["foreign"]), "--precision", "float32"])
    assert res.code == 0 and "projection=" not in res.stdout
    res = run_cli(["inspect", str(models["dense"])])
    assert "projection=hash" in res.stdout
    for num_bits, shown in ((0, False), (96, True)):
        report = VerifyResult(model="m.onnx", precision="int8", projection="hash", samples=1, mismatches=0,
                              accuracy_reference=1.0, accuracy_c=1.0, accuracy_float=1.0, weight_bytes=1,
                              arena_bytes=1, compile_seconds=0.0, builds=(), num_bits=num_bits)
        print_verify(report, Console(width=200))
        assert ("projection hash" in capsys.readouterr().out) == shown
