"""The header's caller glue, compiled and run on the host against Python: `<name>_quantize` gives the
same bytes as pnetc.quantization for every sample (halves, out-of-range values, NaN, infinities
included), the label strings, and `<name>_scores_to_probabilities` (softmax of the dequantized scores)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pnetc.compiler import compile_model
from pnetc.ir.inputs import input_encoding
from pnetc.quantization import fit_features
from tests.compiler import model_factory as mf
from tests.compiler.conftest import have

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Werror", "-pedantic"]
pytestmark = pytest.mark.skipif(not have("gcc"), reason="needs gcc")


def _c_float(v: float) -> str:
    v = float(np.float32(v))
    if np.isnan(v):
        return "NAN"
    if np.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return v.hex() + "f"  # exact


def edge_samples(encoding, n: int, rng) -> np.ndarray:
    """Samples on and around the rounding ties of every feature, and out of range, NaN, +-inf."""
    enc = encoding.broadcast(n)
    scale, zp = enc.scale.astype(np.float64), enc.zero_point.astype(np.float64)
    rows = []
    for k in (-3, -0.5, 0.5, 1.5, 2.5, 100.5, 127.5, 128.5, 254.5, 255.5, 300):  # levels k - zp (ties at .5)
        rows.append(((k - zp) * scale).astype(np.float32))
    ties = (np.floor(rng.uniform(-10, 300, (20, n))) + 0.5 - zp) * scale
    rows.extend(ties.astype(np.float32))
    rows.append(np.nextafter(rows[2], np.float32(np.inf)))  # just above / below a tie
    rows.append(np.nextafter(rows[2], np.float32(-np.inf)))
    for v in (np.nan, np.inf, -np.inf, 3e38, -3e38, 0.0, -0.0, 1e-45):
        rows.append(np.full(n, v, np.float32))
    return np.asarray(rows, np.float32)


def run_glue(tmp_path: Path, cm, xs: np.ndarray) -> list[str]:
    """One line per sample from a C program built against the generated code: the quantized bytes,
    '|', the prediction, its label, and the probabilities."""
    name, upper = cm.name, cm.name.upper()
    rows = ",\n".join("{" + ", ".join(_c_float(v) for v in r) + "}" for r in xs)
    main = f"""#include <math.h>
#include <stdio.h>
#include "{name}.h"
static const float xs[{len(xs)}][{upper}_INPUT_SIZE] = {{
{rows}
}};
int main(void)
{{
    size_t i, j;
    for (i = 0; i < {len(xs)}u; ++i) {{
        {name}_input_t q[{upper}_INPUT_SIZE];
        {name}_score_t scores[{upper}_NUM_CLASSES];
        float probs[{upper}_NUM_CLASSES];
        int c;
        {name}_quantize(xs[i], q);
        c = {name}_predict(q, scores);
        {name}_scores_to_probabilities(scores, probs);
        for (j = 0; j < {upper}_INPUT_SIZE; ++j) {{
            printf("%d ", (int)q[j]);
        }}
        printf("| %d %s", c, {name}_labels[c]);
        for (j = 0; j < {upper}_NUM_CLASSES; ++j) {{
            printf(" %.9g", (double)probs[j]);
        }}
        printf("\\n");
    }}
    return 0;
}}
"""
    src = tmp_path / "main.c"
    src.write_text(main)
    exe = tmp_path / "glue"
    cmd = ["gcc", *STRICT, "-O2", *[f"-I{d}" for d in cm.include_dirs], str(src), *map(str, cm.sources), "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:4000]  # no -lm: the glue needs no libm
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def check_against_python(cm, xs: np.ndarray, lines: list[str]) -> None:
    encoding = input_encoding(cm.graph)
    want = encoding.quantize(xs)
    got = np.array([[int(v) for v in line.split("|")[0].split()] for line in lines])
    assert got.shape == want.shape
    differing = np.argwhere(got != want)
    assert len(differing) == 0, f"{len(differing)} differing bytes, first at {differing[:3].tolist()}"
    ref = cm.reference.run(cm.reference.check_input(want) if cm.graph.projection is not None else xs)
    tail = [line.split("|")[1].split() for line in lines]
    assert [int(t[0]) for t in tail] == ref.predictions.tolist()
    assert [t[1] for t in tail] == [cm.graph.info.labels[c] for c in ref.predictions]
    probs = np.array([[float(v) for v in t[2:]] for t in tail])
    real = ref.scores.astype(np.float64)
    if cm.score_dtype == "int8":
        q = cm.graph.tensors[cm.graph.output].quant
        real = q.scale * (real - q.zero_point)
    expect = np.exp(real - real.max(axis=1, keepdims=True))
    expect /= expect.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expect, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_per_feature_quantize_matches_python(tmp_path, precision):
    """A pnetc model on float features: per-feature tables, every test sample and every tie."""
    rng = np.random.default_rng(3)
    n = 12
    ranges = [(-1e-3, 1e-3), (143.5, 2501.0), (0.05, 0.0975), (-5, 5), (7, 7), (0, 1e30), (-2e4, -1e4)]
    lo = np.array([ranges[j % len(ranges)][0] for j in range(n)])
    hi = np.array([ranges[j % len(ranges)][1] for j in range(n)])
    train = (lo + (hi - lo) * rng.random((300, n))).astype(np.float32)
    train[:, 4] = 7.0  # a constant feature
    encoding = fit_features(train)
    model = mf.make_dense_model(tmp_path / "f.onnx", input_size=n, num_classes=3, num_bits=64,
                                input_meta=encoding.to_metadata())
    cm = compile_model(model, tmp_path / "out", name="sensor", precision=precision)
    assert input_encoding(cm.graph).per_feature
    header = (tmp_path / "out" / "sensor.h").read_text()
    assert "round_half_even" in header and "sensor_quantize(const float *x, sensor_input_t *q)" in header
    test = (lo + (hi - lo) * rng.random((200, n))).astype(np.float32)
    xs = np.concatenate([train[:50], test, edge_samples(encoding, n, rng)])
    check_against_python(cm, xs, run_glue(tmp_path, cm, xs))


def test_foreign_int8_quantize_on_every_digits_sample(tmp_path):
    """A float-input CNN compiled to int8 with digits calibration (one scale 16/255, whose float32
    literal 0.0627451017f broke round-half-even before): 0 differing bytes on every digits sample."""
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float32)
    model = mf.make_torch_cnn(tmp_path / "cnn.onnx", dynamic=True)
    np.savez(tmp_path / "calib.npz", x=x[:500].reshape(500, 1, 8, 8))
    cm = compile_model(model, tmp_path / "out", name="cnn", precision="int8", calib=tmp_path / "calib.npz")
    encoding = input_encoding(cm.graph)
    assert not encoding.per_feature and encoding.levels == (-128, 127)
    halves = ((np.arange(-130, 130) + 0.5) * np.float64(encoding.scale[0])).astype(np.float32)
    xs = np.concatenate([x, np.resize(halves, (len(halves) // 64 + 1) * 64).reshape(-1, 64),
                         edge_samples(encoding, 64, np.random.default_rng(1))])
    check_against_python(cm, xs, run_glue(tmp_path, cm, xs))


def test_foreign_mlp_quantizes_per_feature_on_every_digits_sample(tmp_path):
    """A float-input MLP (dense first layer) compiled to int8 with digits calibration: one scale and
    zero point per feature (constant pixels included), 0 differing bytes on every digits sample and
    on each feature's rounding ties."""
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float32)
    model = mf.make_foreign_mlp(tmp_path / "mlp.onnx", input_size=64, num_classes=10)
    np.savez(tmp_path / "calib.npz", x=x[:500].reshape(500, 1, 64))
    cm = compile_model(model, tmp_path / "out", name="mlp", precision="int8", calib=tmp_path / "calib.npz")
    encoding = input_encoding(cm.graph)
    assert encoding.per_feature and encoding.levels == (-128, 127)
    assert "MLP_INPUT_SCALE " not in (tmp_path / "out" / "mlp.h").read_text()  # no one-scale macro
    ties = (np.arange(-130, 130)[:, None] + 0.5 - encoding.zero_point) * encoding.scale.astype(np.float64)
    xs = np.concatenate([x, ties.astype(np.float32), edge_samples(encoding, 64, np.random.default_rng(1))])
    check_against_python(cm, xs, run_glue(tmp_path, cm, xs))


def test_long_labels_are_cut_between_characters():
    """C99 guarantees string literals of 4095 bytes: longer names are cut there, never inside a character."""
    from pnetc.codegen.context import C_LABEL_MAX, c_label

    assert c_label("x" * 5000) == b"x" * C_LABEL_MAX
    assert c_label("caf\u00e9") == "caf\u00e9".encode()
    for pad in range(4):  # a 2-, 3- and 4-byte character straddling the cut at every offset
        for ch in ("\u00e9", "\u20ac", "\U0001F600"):
            got = c_label("a" * (C_LABEL_MAX - pad) + ch * 3)
            assert len(got) <= C_LABEL_MAX and got.decode("utf-8").startswith("a" * (C_LABEL_MAX - pad))


def test_labels_are_escaped_strings(tmp_path):
    """Untrusted class names come out as C string literals holding exactly their bytes."""
    labels = ['a"b', "c\\d", "*/ x /*", "\u00e9t\u00e9", "??=", "line\nbreak", "z" * 5000]
    model = mf.make_dense_model(tmp_path / "l.onnx", input_size=8, num_classes=len(labels), num_bits=32)
    import onnx

    m = onnx.load(str(model))
    for p in m.metadata_props:
        if p.key == "pnetc.labels":
            import json

            p.value = json.dumps(labels)
    onnx.save(m, str(model))
    cm = compile_model(model, tmp_path / "out", name="lab", precision="int8")
    main = tmp_path / "main.c"
    main.write_text('#include <stdio.h>\n#include "lab.h"\nint main(void)\n{\n    size_t i;\n'
                    '    for (i = 0; i < LAB_NUM_CLASSES; ++i) {\n        fputs(lab_labels[i], stdout);\n'
                    '        fputc(0, stdout);\n    }\n    return 0;\n}\n')
    exe = tmp_path / "labels"
    r = subprocess.run(["gcc", *STRICT, *[f"-I{d}" for d in cm.include_dirs], str(main), *map(str, cm.sources),
                        "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:3000]
    out = subprocess.run([str(exe)], capture_output=True, timeout=30).stdout
    assert out.split(b"\0")[:-1] == [t.encode() for t in labels[:-1]] + [b"z" * 4095]


def test_breast_cancer_every_sample(tmp_path):
    """scikit-learn's breast_cancer as raw floats: the encoding fitted on its training split, every
    sample of both splits quantized in C and in Python (0 differing bytes)."""
    from sklearn.datasets import load_breast_cancer

    from pnetc.datasets import load_dataset

    bunch = load_breast_cancer()
    np.savez(tmp_path / "bc.npz", x=bunch.data, y=bunch.target)
    ds = load_dataset(str(tmp_path / "bc.npz"))
    model = mf.make_dense_model(tmp_path / "bc.onnx", input_size=30, num_classes=2, num_bits=64,
                                input_meta=ds.encoding.to_metadata())
    cm = compile_model(model, tmp_path / "out", name="bc", precision="int8")
    xs = np.concatenate([ds.x_train_raw, ds.x_test_raw, edge_samples(ds.encoding, 30, np.random.default_rng(4))])
    check_against_python(cm, xs, run_glue(tmp_path, cm, xs))
    np.testing.assert_array_equal(input_encoding(cm.graph).quantize(ds.x_test_raw), ds.x_test)
