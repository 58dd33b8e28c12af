"""The rows of the comparison: pnetc itself and the peers (emlearn, emx-onnx-cgen).

Each function returns a harness.Row: the model's C sources plus a small adapter file with
`int bench_predict(const void *input)`, the test samples already in the model's own input type,
and the predictions of the row's own reference (pnetc's golden interpreter, sklearn, or
onnxruntime), so a device answer that differs from its reference is counted.

Peers are installed from PyPI by `python -m bench --install-peers` (bench/requirements.txt);
nothing of theirs is kept in this repository. A peer that is missing, or that cannot express a
model, gives a row with `unavailable` set to the reason.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from bench.harness import Row, as_records
from pnetc.errors import PnetcError

EMLEARN_NAME = "peer_mlp"
EMX_NAME = "peer_onnx"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- pnetc ---------------------------------------------------------------------------------


def dense_macs(graph) -> tuple[int, int]:
    """(multiply-accumulates of the dense layers, row additions of the bit layers) per inference."""
    macs = bit_adds = 0
    for op in getattr(graph, "ops", []):
        if type(op).__name__ != "Dense":
            continue
        if op.lowering == "dense":
            macs += op.in_features * op.out_features
        else:
            bit_adds += op.in_features * op.out_features  # upper bound: every bit set
    return macs, bit_adds


def dense_stage_macs(graph) -> list[int | None]:
    """Per PNET_STAGE_MARK stage: the MACs of a multiplying dense layer, else None."""
    out: list[int | None] = []
    for op in getattr(graph, "ops", []):
        kind = type(op).__name__
        if kind.endswith("Projection"):
            out.append(None)
        elif kind == "Dense":
            out.append(op.in_features * op.out_features if op.lowering == "dense" else None)
    return out


def pnetc_row(key: str, label: str, model_path: Path, x_test: np.ndarray, work: Path, *, model: str,
              precision: str, float_input: bool = False, calib: Path | None = None) -> Row:
    """A model compiled by pnetc: the generated C, its kernels, and a one-line adapter."""
    from pnetc.compiler import compile_model

    row = Row(key=key, label=label, tool="pnetc", model=model, precision=precision)
    compiled = compile_model(model_path, work / "model", name="model", precision=precision, calib=calib)
    x = x_test.astype(np.float32) if float_input else x_test
    adapter = _write(work / "adapter.c", (
        "/* pnetc row adapter: the generated API behind the harness's bench_predict. */\n"
        '#include "model.h"\n\n'
        "static model_score_t scores[MODEL_NUM_CLASSES];\n\n"
        "int bench_predict(const void *input)\n{\n"
        "    return model_predict((const model_input_t *)input, scores);\n}\n"))
    row.sources = [*compiled.sources, adapter]
    row.include_dirs = [*compiled.include_dirs, work / "model"]
    row.records = as_records(np.asarray(compiled.reference.encode_input(x)))
    ref = compiled.reference.run(x)
    row.reference = np.asarray(ref.predictions, np.int64)
    row.reference_name = "pnetc golden interpreter"
    row.weight_bytes = int(compiled.weight_bytes)
    row.macs, bit_adds = dense_macs(compiled.graph)
    row.stage_macs = dense_stage_macs(compiled.graph)
    if bit_adds:
        row.notes.append(f"the layer over the bits adds one weight row per set bit (at most {bit_adds:,} adds)")
    return row


def write_calibration(path: Path, x_train: np.ndarray, n: int = 2000) -> Path:
    """Calibration samples for int8 quantisation of a float-input model (trainer.onnx convention:
    the dataset's quantized values as floats)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(x_train), size=min(n, len(x_train)), replace=False)
    np.savez(path, x=np.asarray(x_train)[np.sort(idx)].astype(np.float32))
    return path


# ---- the trainer MLP's shape ------------------------------------------------------------------


def mlp_layers(onnx_path: Path) -> list[tuple[int, int]]:
    """(in, out) of each Gemm/MatMul of a plain MLP ONNX file, in graph order."""
    import onnx

    m = onnx.load(str(onnx_path))
    inits = {t.name: tuple(t.dims) for t in m.graph.initializer}
    layers = []
    for node in m.graph.node:
        if node.op_type == "Gemm":
            shape = inits.get(node.input[1])
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            if shape:
                layers.append((shape[1], shape[0]) if trans_b else (shape[0], shape[1]))
        elif node.op_type == "MatMul" and node.input[1] in inits:
            shape = inits[node.input[1]]
            layers.append((shape[0], shape[1]))
    if not layers:
        raise PnetcError(f"{onnx_path.name} has no Gemm/MatMul layers to size the peer MLP after")
    return layers


def hidden_sizes(onnx_path: Path) -> tuple[int, ...]:
    return tuple(out for _, out in mlp_layers(onnx_path)[:-1])


# ---- emlearn --------------------------------------------------------------------------------


def peer_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("emlearn", "emx-onnx-cgen", "scikit-learn", "onnxruntime"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def real_values(ds, x: np.ndarray) -> np.ndarray:
    """The dataset's real values (scale * (q - zero_point)): the sklearn MLP's input."""
    return (np.float32(ds.scale) * (np.asarray(x, np.float32) - np.float32(ds.zero_point))).astype(np.float32)


def train_sklearn_mlp(ds, hidden: tuple[int, ...], cache: Path, *, max_iter: int = 20, seed: int = 0):
    """An sklearn MLPClassifier of the trainer's shape on the dataset's real values; cached (pickle)."""
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    tag = f"sklearn-mlp-{'x'.join(map(str, hidden))}-it{max_iter}-s{seed}-v{sklearn.__version__}.pkl"
    path = cache / tag
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    mlp = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", solver="adam", batch_size=128,
                        learning_rate_init=1e-3, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(real_values(ds, ds.x_train), np.asarray(ds.y_train))
    cache.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(mlp, f)
    return mlp


def emlearn_row(ds, x_test: np.ndarray, hidden: tuple[int, ...], work: Path, cache: Path, *,
                max_iter: int = 20, key: str = "emlearn-float32", label: str = "emlearn: sklearn MLP",
                y_test: np.ndarray | None = None, match_accuracy: float | None = None) -> Row:
    """sklearn MLPClassifier -> emlearn.convert(...).save(...) (float, emlearn's default 'loadable' net).

    With `match_accuracy`, `hidden` is a list of candidate widths of one hidden layer and the row
    is the smallest whose test accuracy reaches it (the usual network cut to the projection net's
    accuracy; picked on the test split, which favours the peer)."""
    row = Row(key=key, label=label, tool="emlearn", model="sklearn MLP", precision="float32")
    saved = np.geterr()
    try:
        import emlearn
    except ImportError:
        row.unavailable = "emlearn is not installed (python -m bench --install-peers)"
        return row
    finally:
        np.seterr(**saved)  # importing emlearn sets numpy's errors to 'raise' for the whole process
    if match_accuracy is None:
        mlp = train_sklearn_mlp(ds, hidden, cache, max_iter=max_iter)
    else:
        for width in hidden:
            mlp = train_sklearn_mlp(ds, (width,), cache, max_iter=max_iter)
            acc = float(np.mean(mlp.predict(real_values(ds, x_test)) == y_test))
            if acc >= match_accuracy:
                break
        row.notes.append(f"{label}: the smallest one-hidden-layer width of {', '.join(map(str, hidden))} whose "
                         f"test accuracy reaches the projection net's ({100 * match_accuracy:.2f} %)")
        hidden = tuple(mlp.hidden_layer_sizes) if isinstance(mlp.hidden_layer_sizes, tuple) else (mlp.hidden_layer_sizes,)
    row.model = f"sklearn MLP {'-'.join(map(str, (ds_inputs(mlp), *hidden, len(mlp.classes_))))}"
    header = work / f"{EMLEARN_NAME}.h"
    header.parent.mkdir(parents=True, exist_ok=True)
    emlearn.convert(mlp).save(file=str(header), name=EMLEARN_NAME)
    n_in = int(mlp.coefs_[0].shape[0])
    adapter = _write(work / "adapter.c", (
        "/* emlearn row adapter: the emlearn-generated predict behind the harness's bench_predict. */\n"
        "#include <stdint.h>\n"
        f'#include "{EMLEARN_NAME}.h"\n\n'
        "int bench_predict(const void *input)\n{\n"
        f"    return (int){EMLEARN_NAME}_predict((const float *)input, {n_in});\n}}\n"))
    row.sources = [adapter]
    row.include_dirs = [work, Path(emlearn.includedir)]
    x = real_values(ds, x_test)
    row.records = as_records(x)
    row.reference = mlp.predict(x).astype(np.int64)
    row.reference_name = "sklearn predict"
    row.weight_bytes = 4 * int(sum(w.size + b.size for w, b in zip(mlp.coefs_, mlp.intercepts_)))
    row.macs = int(sum(w.size for w in mlp.coefs_))
    row.notes.append(f"sklearn MLPClassifier {hidden}: adam, {mlp.n_iter_} epochs, inputs scaled to [0, 1]")
    return row


def ds_inputs(mlp) -> int:
    return int(mlp.coefs_[0].shape[0])


# ---- emx-onnx-cgen --------------------------------------------------------------------------


def emx_compile(onnx_path: Path, out_c: Path, name: str) -> subprocess.CompletedProcess:
    """emx-onnx-cgen's CLI: batch pinned to 1, all weights inline as C arrays (no data file, no
    heap: temporaries on the stack), so the image is self-contained like the others."""
    out_c.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "emx_onnx_cgen", "compile", "--color", "never", "--model-name", name,
           "--large-weight-threshold", "0", "--large-temp-threshold", "0", "--input-dim", "batch=1",
           str(onnx_path), str(out_c)]
    return subprocess.run(cmd, capture_output=True, text=True)


def emx_failure(proc: subprocess.CompletedProcess) -> str:
    """The one line of emx-onnx-cgen's output that says why it failed."""
    text = (proc.stderr or "") + (proc.stdout or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"error|unsupported|not supported|cannot", ln, re.I):
            return ln[:300]
    return (lines[-1] if lines else f"exit code {proc.returncode}")[:300]


def emx_row(trainer: Path, x_test: np.ndarray, work: Path) -> Row:
    """The trainer MLP's ONNX compiled with emx-onnx-cgen (float32)."""
    row = Row(key="emx-float32", label="emx-onnx-cgen: trainer MLP", tool="emx-onnx-cgen",
              model="trainer MLP (ONNX)", precision="float32")
    try:
        import emx_onnx_cgen  # noqa: F401
        import onnxruntime as ort
    except ImportError:
        row.unavailable = "emx-onnx-cgen is not installed (python -m bench --install-peers)"
        return row
    out_c = work / f"{EMX_NAME}.c"
    proc = emx_compile(trainer, out_c, EMX_NAME)
    if proc.returncode != 0 or not out_c.exists():
        row.unavailable = f"emx-onnx-cgen cannot compile {trainer.name}: {emx_failure(proc)}"
        return row
    layers = mlp_layers(trainer)
    n_in, n_out = layers[0][0], layers[-1][1]
    sig = re.search(rf"void {EMX_NAME}\(const float \w+\[(?:restrict )?1\]\[(\d+)\], float \w+\[(?:restrict )?1\]\[(\d+)\]\)",
                    out_c.read_text())
    if sig is None or (int(sig.group(1)), int(sig.group(2))) != (n_in, n_out):
        row.unavailable = f"emx-onnx-cgen generated an entry point other than {EMX_NAME}(float[1][{n_in}], float[1][{n_out}])"
        return row
    adapter = _write(work / "adapter.c", (
        "/* emx-onnx-cgen row adapter: the generated entry point, then argmax (first maximum). */\n"
        f"void {EMX_NAME}(const float x[1][{n_in}], float logits[1][{n_out}]);\n\n"
        f"static float logits[1][{n_out}];\n\n"
        "int bench_predict(const void *input)\n{\n"
        "    int best = 0;\n    int j;\n"
        f"    {EMX_NAME}((const float (*)[{n_in}])input, logits);\n"
        f"    for (j = 1; j < {n_out}; j++) {{\n"
        "        if (logits[0][j] > logits[0][best]) {\n            best = j;\n        }\n    }\n"
        "    return best;\n}\n"))
    row.sources = [out_c, adapter]
    row.include_dirs = [work]
    x = np.asarray(x_test, np.float32)
    row.records = as_records(x)
    sess = ort.InferenceSession(str(trainer), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    row.reference = np.argmax(logits, axis=1).astype(np.int64)
    row.reference_name = "onnxruntime"
    row.weight_bytes = 4 * sum(i * o + o for i, o in layers)
    row.macs = sum(i * o for i, o in layers)
    return row


def emx_can_express(model_path: Path, work: Path) -> str:
    """'' if emx-onnx-cgen compiles the file, else its reason (used for the projection net)."""
    try:
        import emx_onnx_cgen  # noqa: F401
    except ImportError:
        return "emx-onnx-cgen is not installed"
    proc = emx_compile(model_path, work / "probe.c", "probe")
    return "" if proc.returncode == 0 else emx_failure(proc)
