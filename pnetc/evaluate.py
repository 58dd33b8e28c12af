"""`pnetc eval` (the golden interpreter's accuracy on a data set) and `pnetc verify`.

verify is a run on the `host` board, in three build flavours, through the same firmware, record
protocol (pnetc/targets/protocol.py) and comparison rule (pnetc/targets/compare.py) as every other
board: -fsigned-char, -funsigned-char, and -fsanitize=address,undefined, each with
-std=c99 -Wall -Wextra -Wconversion -Wdouble-promotion -Werror. Each flavour runs ONE process
for the whole test set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from pnetc.errors import PnetcError
from pnetc.results import Result
from pnetc.targets.compare import Mismatch

STRICT_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Werror"]
BUILDS = {
    "signed-char": ["-O2", "-fsigned-char"],
    "unsigned-char": ["-O2", "-funsigned-char"],
    "asan-ubsan": ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
}


REFERENCE_CHUNK = 4096  # samples per golden-interpreter batch: memory stays flat for any test split


@dataclass
class FlavourCheck:
    """One host build flavour of `verify`, compared sample by sample with the reference."""

    build: str
    mismatches: int = 0
    bit_mismatches: int = 0
    score_mismatches: int = 0
    prediction_mismatches: int = 0
    errors: int = 0  # negative return codes
    max_abs_score_diff: float = 0.0
    accuracy: float = 0.0
    seconds: float = 0.0
    first_mismatch: Optional[int] = None


@dataclass(frozen=True)
class VerifyResult(Result):
    """Host builds of the generated C compared sample by sample with the golden interpreter."""

    model: str
    precision: str
    projection: str
    samples: int
    mismatches: int
    accuracy_reference: float
    accuracy_c: Optional[float]              # None when no build ran
    accuracy_float: float
    weight_bytes: int
    arena_bytes: int
    compile_seconds: float
    builds: tuple[FlavourCheck, ...]         # per build: mismatches by kind, accuracy, seconds
    onnxruntime_max_rel_diff: Optional[float] = None  # float interpreter vs onnxruntime (None: not installed)
    accuracy_change: float = 0.0             # reference (quantised) minus float32
    warnings: tuple[str, ...] = ()           # int8 level warnings (pnetc.ir.levels)
    num_bits: int = 0  # projection bits; 0 for a model without a projection (then `projection` does not apply)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


def check_flavour(compiled, reference_out, x, y, build: str, work: Path) -> FlavourCheck:
    """Build `compiled` for the host board in flavour `build`, run every sample, compare."""
    from pnetc.targets.boards import get_board
    from pnetc.targets.compare import compare, max_score_difference
    from pnetc.targets.run import build_for_run, max_record_bytes, run_samples

    board = get_board("host")
    samples = list(x)
    started = time.perf_counter()
    firmware = build_for_run(board, compiled, work / "build", max_input_bytes=max_record_bytes(compiled, samples),
                             extra_cflags=[*STRICT_CFLAGS, *BUILDS[build]])
    device, _ = run_samples(board, compiled, samples, work / "run", firmware=firmware)
    found = compare(device, reference_out, compiled.score_dtype)
    check = FlavourCheck(build, mismatches=len(found), seconds=0.0)
    for kind, attr in (("bits", "bit_mismatches"), ("scores", "score_mismatches"), ("prediction", "prediction_mismatches")):
        setattr(check, attr, sum(kind in m.what for m in found))
    check.errors = int(np.sum(device.predictions < 0))
    if compiled.score_dtype == "float32":
        check.max_abs_score_diff = max_score_difference(device.scores, reference_out.scores)
    check.first_mismatch = found[0].index if found else None
    if y is not None and len(y):
        check.accuracy = float(np.mean(device.predictions == np.asarray(y)))
    check.seconds = time.perf_counter() - started
    return check


def run_reference(ref, x, precisions: tuple) -> list:
    """The golden interpreter's output on x for each precision (None: the graph's own), computed
    in chunks of REFERENCE_CHUNK samples that share the projection bits: the interpreter's
    intermediates grow with the batch (~30 KB per 784-value sample), the outputs barely do."""
    from pnetc.ir.interpret import ReferenceOutput

    parts: list[list] = [[] for _ in precisions]
    for start in range(0, max(len(x), 1), REFERENCE_CHUNK):
        chunk = x[start:start + REFERENCE_CHUNK]
        packed = ref.bits(chunk)
        for outs, precision in zip(parts, precisions):
            outs.append(ref.run(chunk, precision, packed_bits=packed))
    return [ReferenceOutput(np.concatenate([o.bits for o in outs]), np.concatenate([o.scores for o in outs]),
                            np.concatenate([o.predictions for o in outs])) for outs in parts]


def _dataset_inputs(graph, ds):
    """Test inputs in the form the model takes. A model on float features (a float-input model, or a
    pnetc model trained on float features) reads the data as feature values; a pnetc model of the
    latter kind gets them quantized with its own per-feature encoding (pnetc.quantization), never
    with one fitted on this data."""
    from pnetc.ir.inputs import takes_float_features

    if graph.input_kind == "text":
        if ds.task != "text":
            raise PnetcError(f"this is a text model but dataset {ds.name} holds {ds.task} samples")
        return ds.x_test
    if ds.task == "text":
        raise PnetcError(f"this model takes {graph.input_size} values per sample but dataset {ds.name} is text")
    raw = ds.x_test_raw
    x = raw if raw is not None else ds.x_test
    if x.shape[1] != graph.input_size:
        raise PnetcError(f"dataset {ds.name} has {x.shape[1]} features per sample; the model takes {graph.input_size}")
    if takes_float_features(graph):
        return _feature_inputs(graph, x)
    if raw is not None:
        raise PnetcError(f"dataset {ds.name} holds float features, but this model takes quantized levels 0..255 "
                         "(it was trained on integer features); give the data as those levels")
    return x


def load_eval_data(graph, dataset: Optional[str], data: Optional[str], data_dir=None, limit: Optional[int] = None,
                   model_path=None):
    """(dataset, test inputs, test labels as the model's class ids), the first `limit` of them.
    Without dataset and data, the data the model records it was trained on (datasets.recorded)."""
    from pnetc.datasets import check_limit, load_dataset, to_model_classes
    from pnetc.datasets.recorded import recorded_data

    limit = check_limit(limit)
    if dataset and data:
        raise PnetcError("pass --dataset NAME or --data FILE, not both")
    if not dataset and not data:
        dataset, data = recorded_data(graph.info.training, model_path or graph.info.source)
    ds = load_dataset(dataset or data, data_dir)
    x = _dataset_inputs(graph, ds)
    if len(ds.y_test) == 0:
        raise PnetcError(f"dataset {ds.name} has no test samples")
    y = to_model_classes(ds.labels, ds.y_test, graph.info.labels, f"dataset {ds.name}")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return ds, x, y


def verify_model(model_path, *, dataset: Optional[str] = None, data: Optional[str] = None, data_dir=None,
                 precision: str = "int8", projection: str = "hash", calib=None, name: str = "model",
                 builds=tuple(BUILDS), limit: Optional[int] = None, keep_dir: Optional[Path] = None,
                 force: bool = False, progress=None, output: Optional[str] = None) -> VerifyResult:
    """keep_dir: keep the generated code and builds there (a transaction: pnetc/outdir.py)."""
    from pnetc import outdir
    from pnetc.compiler import compile_model
    from pnetc.datasets import check_limit

    check_limit(limit)  # before the compile, which takes a while
    with (outdir.scratch("pnetc-verify-") if keep_dir is None else
          outdir.transaction(keep_dir, command="verify", force=force, flag="--keep")) as staged:
        work = staged.path
        t0 = time.perf_counter()
        compiled = compile_model(model_path, work / "model", name=name, precision=precision,
                                 projection=projection, calib=calib, output=output)
        compile_seconds = time.perf_counter() - t0
        _, x, y = load_eval_data(compiled.graph, dataset, data, data_dir, limit, model_path)
        if calib is None:  # the counts come from the test data when no calibration samples were given
            from pnetc.ir.levels import level_warnings

            compiled.warnings = level_warnings(compiled.graph, x)
        n = len(y)
        step = progress.add_task("golden interpreter", total=2) if progress else None
        ref = compiled.reference
        if compiled.score_dtype == "int8":
            out_ref, out_float = run_reference(ref, x, (None, "float32"))
        else:
            out_ref = out_float = run_reference(ref, x, (None,))[0]
        if progress:
            progress.advance(step)
        if progress:
            progress.advance(step)
        results = []
        for b in builds:
            task = progress.add_task(f"build + run {b}", total=1) if progress else None
            results.append(check_flavour(compiled, out_ref, x, y, b, work / b))
            if progress:
                progress.advance(task)
        ort_diff = None
        try:
            import onnxruntime  # noqa: F401  (optional: a dev dependency)
        except ImportError:
            pass
        else:
            sub = x[:1000]
            ort_diff = check_onnxruntime(model_path, build_graph_float(model_path, output), sub, output)
        accuracy_reference = float(np.mean(out_ref.predictions == y))
        accuracy_float = float(np.mean(out_float.predictions == y))
        return VerifyResult(
            onnxruntime_max_rel_diff=ort_diff,
            model=str(model_path), precision=precision, projection=projection, samples=n,
            mismatches=sum(r.mismatches for r in results),
            accuracy_reference=accuracy_reference,
            accuracy_c=results[0].accuracy if results else None,
            accuracy_float=accuracy_float, accuracy_change=accuracy_reference - accuracy_float,
            weight_bytes=compiled.weight_bytes, arena_bytes=compiled.arena_bytes,
            compile_seconds=compile_seconds, builds=tuple(results), warnings=tuple(compiled.warnings),
            num_bits=compiled.graph.num_bits,
        )


def build_graph_float(model_path, output: Optional[str] = None):
    from pnetc.compiler import build_graph

    return build_graph(model_path, precision="float32", output=output)


@dataclass(frozen=True)
class EvalResult(Result):
    """The golden interpreter on a test split: accuracy, per-class figures, confusion matrix."""

    model: str
    dataset: str
    precision: str
    samples: int
    accuracy: float
    accuracy_float: Optional[float]      # the float32 reference, for a quantized precision
    macro_f1: Optional[float]
    per_class: dict                      # label -> samples, predicted, precision, recall, f1, accuracy
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # [true class][predicted class] -> samples
    task: str
    plot: Optional[Path] = None          # the confusion-matrix PNG, when asked for


def evaluate_model(model_path, *, dataset: Optional[str] = None, data: Optional[str] = None, data_dir=None,
                   precision: str = "float32", calib=None, limit: Optional[int] = None,
                   output: Optional[str] = None) -> EvalResult:
    """Accuracy of the golden interpreter (float32 by default: no C, no torch)."""
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    graph = build_graph(model_path, precision=precision, calib=calib, output=output)
    ds, x, y = load_eval_data(graph, dataset, data, data_dir, limit, model_path)
    ref = Reference(graph)
    if precision != "float32":
        out, out_float = run_reference(ref, x, (None, "float32"))
        float_acc = float(np.mean(out_float.predictions == y))
    else:
        out, float_acc = run_reference(ref, x, (None,))[0], None
    from pnetc.metrics import classification_report

    figures = classification_report(y, out.predictions, graph.info.labels)
    return EvalResult(model=str(model_path), dataset=ds.name, precision=precision, samples=int(len(y)),
                      accuracy=float(np.mean(out.predictions == y)), accuracy_float=float_acc,
                      macro_f1=figures["macro_f1"], per_class=figures["per_class"],
                      labels=tuple(str(label) for label in graph.info.labels),
                      confusion=tuple(tuple(r) for r in figures["confusion"]), task=ds.task)


def check_onnxruntime(model_path, graph, x, output: Optional[str] = None) -> float:
    """Max |difference| / max(1, max |logit|) per sample between the float interpreter and
    onnxruntime on the float graph:
    the whole graph for foreign models, the sub-graph after the projection for pnetc models
    (onnxruntime does not know the ai.pnetc ops). A stripped final softmax is re-applied."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from pnetc.frontend import load_onnx
    from pnetc.ir.interpret import Reference

    model = load_onnx(model_path, output)  # external data checked and inlined: onnx never opens a file the model names
    ref = Reference(graph)
    ours = ref.probabilities(ref.run(x, "float32").scores)
    proj = graph.projection
    if proj is None:
        feed_name, feed = graph.input, np.asarray(x, np.float32)
        shape = [d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim]
        feed = feed.reshape([len(feed), *shape[1:]])
    else:
        from pnetc.hashing import unpack_bits

        node = [n for n in model.graph.node if n.domain == "ai.pnetc"][0]
        bits_name = node.output[0]
        after = _nodes_after(model.graph.node, bits_name)  # the projection and a stem before it go
        del model.graph.node[:]
        model.graph.node.extend(after)
        inputs = [i for i in model.graph.input if i.name != graph.input]
        del model.graph.input[:]
        model.graph.input.extend(inputs + [helper.make_tensor_value_info(bits_name, TensorProto.FLOAT,
                                                                         ["batch", proj.num_bits])])
        keep = [o for o in model.opset_import if o.domain != "ai.pnetc"]
        del model.opset_import[:]
        model.opset_import.extend(keep)
        feed_name = bits_name
        feed = unpack_bits(ref.bits(x), proj.num_bits).astype(np.float32)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # the projection's unused 'mean' initializer is expected
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    batch = model.graph.input[0].type.tensor_type.shape.dim[:1] if proj is None else []
    if batch and batch[0].HasField("dim_value"):  # a batch-1 export (torch's default) takes one sample per run
        theirs = np.concatenate([sess.run(None, {feed_name: feed[i:i + 1]})[0] for i in range(len(feed))])
    else:
        theirs = sess.run(None, {feed_name: feed})[0]
    theirs = theirs.astype(np.float64)
    scale = np.maximum(1.0, np.max(np.abs(theirs), axis=-1, keepdims=True))
    return float(np.max(np.abs(theirs - ours.astype(np.float64)) / scale))


def _nodes_after(nodes, bits_name: str) -> list:
    """The nodes that compute from the bits on (and Constant nodes): the sub-graph onnxruntime runs."""
    needed, kept = {bits_name}, []
    for n in nodes:  # a pnetc graph lists its nodes in order (the importer sorts any other)
        if n.op_type == "Constant" or any(i in needed for i in n.input):
            kept.append(n)
            needed.update(n.output)
    return kept


# ---- `pnetc run`: every test sample on a board, compared with the golden interpreter -------


@dataclass(frozen=True)
class RunResult(Result):
    """Every sample run on the board and compared with the golden interpreter (bits, scores,
    prediction). `mismatches` must be 0."""

    board: str
    dataset: str
    precision: str
    samples: int
    mismatches: int
    mismatch_kinds: dict
    first_mismatches: tuple[dict, ...]
    accuracy_reference: Optional[float]
    accuracy_device: Optional[float]
    stack_high_water_bytes: int
    host_wall_seconds: float
    status: str = "ok"                  # "ok" | "mismatch"

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    @classmethod
    def compared(cls, board: str, precision: str, samples: int, mismatches: Sequence[Mismatch],
                 accuracy_reference: Optional[float], accuracy_device: Optional[float], stack_high_water: int,
                 host_seconds: float, dataset: str = "") -> "RunResult":
        """The result of a run whose answers differed from the reference in `mismatches`."""
        kinds = {k: sum(k in m.what for m in mismatches) for k in ("bits", "scores", "prediction")}
        return cls(board=board, dataset=dataset, precision=precision, samples=samples,
                   mismatches=len(mismatches), mismatch_kinds=kinds,
                   first_mismatches=tuple(m.to_dict() for m in mismatches[:10]),
                   accuracy_reference=accuracy_reference, accuracy_device=accuracy_device,
                   stack_high_water_bytes=stack_high_water, host_wall_seconds=round(host_seconds, 3),
                   status="mismatch" if mismatches else "ok")


def load_samples(dataset: str | None, data: str | None, limit: int | None, graph=None):
    """(name, test inputs, test labels) from a data set name or a data file; with the model's `graph`
    (frontend.load_model), the inputs are in the form the model takes (`_dataset_inputs`) and the
    labels are its class ids (matched by label name, see datasets.to_model_classes)."""
    from pnetc.datasets import check_limit, load_dataset, to_model_classes

    limit = check_limit(limit)
    if (dataset is None) == (data is None):
        raise PnetcError("give exactly one of --dataset NAME or --data FILE")
    source = dataset if dataset is not None else data
    if data is not None and not Path(data).exists():
        raise PnetcError(f"data file {data} does not exist")
    ds = load_dataset(source)
    x, y = ds.x_test, np.asarray(ds.y_test)
    if graph is not None:
        x = _dataset_inputs(graph, ds)
        y = to_model_classes(ds.labels, y, graph.info.labels, f"dataset {ds.name}")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return ds.name, x, y


def run_model(model_path, board_name: str, *, dataset: str | None = None, data: str | None = None,
              limit: int | None = None, precision: str = "int8", calib=None, out_dir=None, force: bool = False,
              timeout_s: float | None = None, progress: Callable[[int, int], None] | None = None,
              output: Optional[str] = None) -> RunResult:
    """Compile, build, run every test sample on the board, and compare with the golden interpreter.
    out_dir: keep the build and run files there (a transaction: pnetc/outdir.py; kept on a fault too)."""
    from pnetc import outdir
    from pnetc.targets.run import DeviceError

    return outdir.kept(out_dir, lambda where: _run_in(where, model_path, board_name, dataset, data, limit, precision,
                                                      calib, timeout_s, progress, output),
                       command="run", force=force, keep_on=(DeviceError,))


def _run_in(out_dir, model_path, board_name: str, dataset, data, limit, precision: str, calib, timeout_s,
            progress, output) -> RunResult:
    import tempfile

    from pnetc.targets.boards import runnable_board
    from pnetc.targets.build import compile_for_board
    from pnetc.targets.compare import compare
    from pnetc.targets.run import checked_timeout, run_samples

    if timeout_s is not None:
        checked_timeout(timeout_s)
    board = runnable_board(board_name)
    from pnetc.datasets.recorded import recorded_data
    from pnetc.frontend import load_model

    graph = load_model(model_path, output)
    if dataset is None and data is None:
        dataset, data = recorded_data(graph.info.training, model_path)
    name, x, y = load_samples(dataset, data, limit, graph=graph)
    samples = list(x)
    if not samples:
        raise PnetcError("the data set has no test samples")
    with tempfile.TemporaryDirectory(prefix="pnetc-run-") as tmp:
        work = Path(out_dir) if out_dir is not None else Path(tmp)
        model = compile_for_board(model_path, work / "model", precision=precision, calib=calib, output=output)
        if model.input_kind == "text" and not isinstance(samples[0], (bytes, bytearray)):
            raise PnetcError(f"the model reads text but data set {name} holds {model.input_kind} arrays")
        if model.input_kind != "text" and isinstance(samples[0], (bytes, bytearray)):
            raise PnetcError(f"the model reads {model.input_size} numbers but data set {name} holds text")
        if model.input_kind != "text" and np.asarray(samples[0]).size != model.input_size:
            raise PnetcError(f"the model reads {model.input_size} inputs but data set {name} has "
                             f"{np.asarray(samples[0]).size} per sample")
        tick = (lambda done: progress(done, len(samples))) if progress else None
        device, run = run_samples(board, model, samples, work / "run", timeout_s=timeout_s, progress=tick)
        ref = model.reference.run(x if model.input_kind != "text" else samples)
        mismatches = compare(device, ref, model.score_dtype)
        labelled = y is not None and len(y) == len(samples) and np.all(np.asarray(y) >= 0)
        acc_ref = float(np.mean(np.asarray(ref.predictions) == y)) if labelled else None
        acc_dev = float(np.mean(device.predictions == y)) if labelled else None
        return RunResult.compared(board.name, precision, len(samples), mismatches, acc_ref, acc_dev,
                                  int(device.stack_bytes.max()), run.elapsed_s, name)


# ---- `pnetc predict`: the golden interpreter's answer for the user's own inputs ----------------


@dataclass(frozen=True)
class PredictResult(Result):
    """One row per sample: index, class (id), label and the scores the label is the argmax of."""

    model: str
    precision: str
    samples: int
    labels: tuple[str, ...]
    predictions: tuple[dict, ...]

    @property
    def predicted_labels(self) -> list:
        return [p["label"] for p in self.predictions]


def _feature_inputs(graph, x):
    """Feature rows in the form the model takes (eval, verify, run, predict): float features as
    float32, quantized with the model's own stored encoding when it is a pnetc model trained on
    them; other rows as they are (the reference checks their range)."""
    from pnetc.ir.inputs import input_encoding, takes_float_features, takes_levels_as_floats

    x = np.asarray(x)
    if takes_levels_as_floats(graph):
        _check_levels(x)
    if not takes_float_features(graph):
        return x
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    if x.shape[1] != graph.input_size:
        raise PnetcError(f"the model takes {graph.input_size} input values per sample, got {x.shape[1]}")
    return x if graph.float_input else input_encoding(graph).quantize(x)


def _check_levels(x) -> None:
    """A stem model reads the levels it was trained on (0..255) as floats: other values are refused."""
    values = np.asarray(x, np.float64)
    if values.size and not (np.all(values == np.round(values)) and values.min() >= 0 and values.max() <= 255):
        raise PnetcError("this model was trained on quantized levels 0..255 (its learned stem reads them as "
                         "floats); give the data as those levels, not other values")


def predict_model(model_path, *, texts: Optional[Sequence] = None, data: Optional[str] = None,
                  precision: str = "float32", calib=None, output: Optional[str] = None) -> PredictResult:
    """The label of every sample (the positional texts of a text model, or the samples of a data
    file in file order), from the golden interpreter: no compiler, no torch."""
    from pnetc.compiler import build_graph
    from pnetc.datasets.inputs import read_inputs
    from pnetc.ir.interpret import Reference

    if bool(texts) == (data is not None):
        raise PnetcError("give the texts to classify or --data FILE, not both" if texts else
                         "give the texts to classify (text models) or --data FILE")
    graph = build_graph(model_path, precision=precision, calib=calib, output=output)
    text_model = graph.input_kind == "text"
    if texts and not text_model:
        raise PnetcError(f"this model takes {graph.input_size} numbers per sample, not text: pass --data FILE")
    if texts:
        samples = [t.encode("utf-8", errors="surrogateescape") if isinstance(t, str) else bytes(t) for t in texts]
    else:
        samples = read_inputs(data, text=text_model)
        if not text_model:
            samples = _feature_inputs(graph, samples)
    ref = Reference(graph)
    out = run_reference(ref, samples, (None,))[0]
    labels = graph.info.labels
    rows = []
    for i, (cls, scores) in enumerate(zip(out.predictions.tolist(), np.asarray(out.scores).tolist())):
        rows.append({"index": i, "class": int(cls), "label": labels[cls] if 0 <= cls < len(labels) else None,
                     "scores": scores})
    return PredictResult(model=str(model_path), precision=precision, samples=len(rows), labels=tuple(labels),
                         predictions=tuple(rows))
