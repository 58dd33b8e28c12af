"""Shared fixtures: small factory models (onnx.helper, no torch) and the samples header."""

from __future__ import annotations

import shutil

import numpy as np
import onnx
import pytest

from tests.compiler import model_factory as mf


def have(*tools: str) -> bool:
    return all(shutil.which(t) is not None for t in tools)


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("package-models")
    dense = mf.make_dense_model(d / "dense.onnx")
    # the same network with tanh hidden units: float32 calls tanhf, so it needs libm
    tanh = onnx.load(str(dense))
    for node in tanh.graph.node:
        if node.op_type == "Relu":
            node.op_type, node.name = "Tanh", node.name.replace("Relu", "Tanh")
    onnx.save(tanh, str(d / "tanh.onnx"))
    return {"dense": dense, "tanh": d / "tanh.onnx", "text": mf.make_text_model(d / "text.onnx")}


def samples_for(cm, n: int = 6):
    """n test inputs for a compiled model: dense uint8 vectors or texts (empty and invalid UTF-8 included)."""
    if cm.input_kind == "text":
        return mf.text_samples(n)[0]
    return mf.dense_samples(n, cm.input_size, seed=21)


def samples_header(cm, samples) -> str:
    """samples.h for tests/packages/consumer/main.c and the sketch runner."""
    from pnetc.codegen.escape import c_string

    name, upper = cm.name, cm.name.upper()
    lines = [f'#include "{name}.h"', f"#define NUM_SAMPLES {len(samples)}", f"#define NUM_CLASSES {upper}_NUM_CLASSES",
             f"#define SCORES_FLOAT {upper}_SCORES_FLOAT", f"typedef {name}_score_t score_t;"]
    if cm.input_kind == "text":
        lines.append("static const char *const texts[NUM_SAMPLES] = {")
        lines += [f"    {c_string(t)}," for t in samples]
        lines.append("};")
        lines.append("static const unsigned text_len[NUM_SAMPLES] = {" + ", ".join(str(len(t)) for t in samples) + "};")
        lines.append(f"static int run_sample(int i, score_t *s) {{ return {name}_predict_text("
                     "(const uint8_t *)texts[i], text_len[i], s); }")
    else:
        lines.append(f"static const {name}_input_t inputs[NUM_SAMPLES][{upper}_INPUT_SIZE] = {{")
        lines += ["    {" + ", ".join(str(int(v)) for v in row) + "}," for row in np.asarray(samples)]
        lines.append("};")
        lines.append(f"static int run_sample(int i, score_t *s) {{ return {name}_predict(inputs[i], s); }}")
    return "\n".join(lines) + "\n"


def check_output(cm, samples, text: str) -> int:
    """Compare the consumer's "P class scores..." lines with the golden reference; returns the count."""
    ref = cm.reference.run(samples if cm.input_kind == "text" else np.asarray(samples))
    lines = [ln for ln in text.splitlines() if ln.startswith(("P ", "E "))]
    assert lines and lines[-1] == f"E {len(samples)}", text
    rows = [ln.split()[1:] for ln in lines[:-1]]
    assert len(rows) == len(samples), text
    for i, row in enumerate(rows):
        assert int(row[0]) == int(ref.predictions[i]), (i, row, ref.predictions[i])
        if cm.score_dtype == "int8":
            assert [int(v) for v in row[1:]] == [int(v) for v in ref.scores[i]], (i, row)
        else:
            got = np.array([int(v, 16) for v in row[1:]], np.uint32).view(np.float32)
            want = np.asarray(ref.scores[i], np.float32)
            assert np.all(np.abs(got - want) <= 1e-5 * max(1.0, float(np.max(np.abs(want))))), (i, got, want)
    return len(rows)
