"""End to end: the generated C equals the golden interpreter on every sample, in three builds;
the interpreter's float path equals onnxruntime on the float graph."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pnetc.compiler import build_graph, compile_model
from pnetc.evaluate import check_flavour, check_onnxruntime, verify_model
from tests.compiler import model_factory as mf

CASES = [
    ("dense", "int8", "hash"), ("dense", "int8", "table"), ("dense", "float32", "hash"), ("dense", "float32", "table"),
    ("dense", "binary", "hash"), ("dense", "binary", "table"),
    ("ternary", "int8", "hash"), ("ternary", "int8", "table"), ("ternary", "float32", "table"),
    ("ternary", "binary", "hash"),
    ("text", "int8", "hash"), ("text", "float32", "hash"), ("text", "binary", "hash"),
]


@pytest.mark.parametrize("model,precision,projection", CASES)
def test_verify_zero_mismatches(models, model, precision, projection):
    data = models["text_jsonl"] if model == "text" else models["dense_npz"]
    report = verify_model(models[model], data=str(data), precision=precision, projection=projection)
    assert report.samples > 0
    assert report.mismatches == 0, [b.__dict__ for b in report.builds]
    assert [b.build for b in report.builds] == ["signed-char", "unsigned-char", "asan-ubsan"]
    assert report.accuracy_c == report.accuracy_reference


def test_verify_cli_json(models):
    r = subprocess.run([sys.executable, "-m", "pnetc", "verify", str(models["dense"]), "--data",
                        str(models["dense_npz"]), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("samples", "mismatches", "accuracy_reference", "accuracy_c", "weight_bytes", "arena_bytes", "builds"):
        assert key in out
    assert out["mismatches"] == 0 and len(out["builds"]) == 3


def test_text_edge_inputs(tmp_path, models):
    """Empty text, invalid UTF-8, control bytes and a 64 KB text through one host process."""
    texts = [b"", b"\xff\xfe\x80 \xc3", b"\x00abc\x00", "Größe ÄÖÜ Прывітанне «ok»".encode(),
             (b"lorem ipsum dolor sit amet " * 2500)[:65536]]
    cm = compile_model(models["text"], tmp_path / "m", precision="int8")
    ref = cm.reference.run(texts)
    for build in ("signed-char", "unsigned-char"):
        assert check_flavour(cm, ref, texts, None, build, tmp_path / build).mismatches == 0


def test_dense_edge_inputs(tmp_path, models):
    """All-zero and saturated inputs (acc ties and extremes)."""
    x = np.stack([np.zeros(64, np.uint8), np.full(64, 255, np.uint8), mf.dense_samples(1)[0]])
    for precision in ("int8", "float32", "binary"):
        cm = compile_model(models["ternary"], tmp_path / precision, precision=precision)
        assert check_flavour(cm, cm.reference.run(x), x, None, "unsigned-char", tmp_path / f"b-{precision}").mismatches == 0


def _foreign_model(tmp_path):
    """A torch.onnx.export MLP when torch is importable, else the same graph built with onnx.helper."""
    try:
        import torch
    except ImportError:
        return mf.make_foreign_mlp(tmp_path / "foreign.onnx"), 20
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(20, 16), torch.nn.BatchNorm1d(16),
                              torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(16, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 4), torch.nn.Softmax(dim=-1))
    with torch.no_grad():
        net[2].running_mean.uniform_(-0.2, 0.2)
        net[2].running_var.uniform_(0.5, 1.5)
    net.eval()
    path = tmp_path / "torch_mlp.onnx"
    torch.onnx.export(net, (torch.randn(2, 1, 20),), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}}, opset_version=17, dynamo=False)
    return path, 20


def test_foreign_mlp_against_onnxruntime_and_c(tmp_path):
    path, n = _foreign_model(tmp_path)
    x = np.random.default_rng(3).standard_normal((64, 1, n)).astype(np.float32)
    graph = build_graph(path, precision="float32")
    assert check_onnxruntime(path, graph, x) < 1e-5
    cm = compile_model(path, tmp_path / "f32", precision="float32")
    assert check_flavour(cm, cm.reference.run(x), x, None, "asan-ubsan", tmp_path / "b32").mismatches == 0
    # int8 with --calib samples
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=np.random.default_rng(4).standard_normal((256, 1, n)).astype(np.float32))
    cm8 = compile_model(path, tmp_path / "i8", precision="int8", calib=str(calib))
    ref8 = cm8.reference.run(x)
    assert check_flavour(cm8, ref8, x, None, "signed-char", tmp_path / "b8").mismatches == 0
    agree = np.mean(ref8.predictions == cm.reference.run(x).predictions)
    assert agree > 0.8  # int8 stays close to the float network


@pytest.mark.parametrize("model", ["dense", "ternary", "text"])
def test_interpreter_matches_onnxruntime(models, model):
    x = mf.text_samples()[0] if model == "text" else mf.dense_samples(100, seed=5)
    graph = build_graph(models[model], precision="float32")
    assert check_onnxruntime(models[model], graph, x) < 1e-5


def test_eval_json(models):
    r = subprocess.run([sys.executable, "-m", "pnetc", "eval", str(models["text"]), "--data",
                        str(models["text_jsonl"]), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["samples"] > 0 and 0 <= out["accuracy"] <= 1 and set(out["per_class"]) == {"de", "en", "fr"}


def test_int8_input_model(tmp_path):
    """Models with int8 inputs centre with pnet_center_s8 and take int8_t in the C API."""
    p = mf.make_dense_model(tmp_path / "s8.onnx", input_dtype="int8", seed=6)
    x = (mf.dense_samples(40, seed=8).astype(np.int16) - 128).astype(np.int8)
    for precision in ("int8", "float32"):
        cm = compile_model(p, tmp_path / precision, precision=precision)
        assert "typedef int8_t model_input_t;" in cm.header.read_text()
        assert check_flavour(cm, cm.reference.run(x), x, None, "signed-char", tmp_path / f"b-{precision}").mismatches == 0


def test_calib_file_overrides_metadata(tmp_path, models):
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=mf.dense_samples(100, seed=21))
    cm = compile_model(models["dense"], tmp_path / "c", precision="int8", calib=str(calib))
    meta = compile_model(models["dense"], tmp_path / "m", precision="int8")
    assert "calib=calib.npz" in (cm.out_dir / "model.c").read_text()
    assert cm.graph.tensors["logits"].quant != meta.graph.tensors["logits"].quant
    x = mf.dense_samples(50, seed=22)
    assert check_flavour(cm, cm.reference.run(x), x, None, "signed-char", tmp_path / "b").mismatches == 0


def test_tampered_c_is_caught(tmp_path, models):
    """The comparison can fail: change one bias in the generated weights and count mismatches."""
    cm = compile_model(models["dense"], tmp_path / "m", precision="int8")
    weights = cm.out_dir / "model_weights.c"
    text = weights.read_text()
    start = text.index("l1_b[")
    brace = text.index("{", start) + 1
    first = text.index(",", brace)
    weights.write_text(text[:brace] + "\n    100000" + text[first:])
    x = mf.dense_samples(60, seed=30)
    res = check_flavour(cm, cm.reference.run(x), x, None, "signed-char", tmp_path / "b")
    assert res.score_mismatches > 0 and res.bit_mismatches == 0
