"""Host verification: build the generated C three ways and compare every test sample
with the golden interpreter.

Builds: -fsigned-char, -funsigned-char, and -fsanitize=address,undefined, all with
-std=c99 -Wall -Wextra -Wconversion -Wdouble-promotion -Werror. Each build runs ONE
process for the whole test set (binary records on stdin/stdout, see
templates/host_main.c.j2). Compared per sample: return code / prediction, projection
bits (exact), int8 scores (exact) or float scores (|c - r| <= 1e-5 * max(1, max|r|) of
the sample), and the predicted class.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from pnetc.errors import PnetcError

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Werror"]
BUILDS = {
    "signed-char": ["-O2", "-fsigned-char"],
    "unsigned-char": ["-O2", "-funsigned-char"],
    "asan-ubsan": ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
}
FLOAT_RTOL = 1e-5


@dataclass
class BuildResult:
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


@dataclass
class VerifyReport:
    model: str
    precision: str
    projection: str
    samples: int
    mismatches: int
    accuracy_reference: float
    accuracy_c: float
    accuracy_float: float
    weight_bytes: int
    arena_bytes: int
    compile_seconds: float
    builds: list[BuildResult] = field(default_factory=list)
    onnxruntime_max_rel_diff: Optional[float] = None  # float interpreter vs onnxruntime (None: not installed)

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "builds"}
        d["accuracy_change"] = self.accuracy_reference - self.accuracy_float
        d["builds"] = [b.__dict__ for b in self.builds]
        return d


def host_compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if not cc:
        raise PnetcError("no C compiler found: install gcc or clang, or set CC")
    return cc


def render_harness(compiled, build_dir: Path) -> Path:
    from pnetc.codegen.context import build_context
    from pnetc.codegen.render import render

    ctx = build_context(compiled.graph, name=compiled.name, options={"harness": "host"})
    ctx["sha256"] = compiled.graph.info.sha256
    path = build_dir / f"{compiled.name}_host_main.c"
    path.write_text(render("host_main.c.j2", ctx))
    return path


def build_host(compiled, build_dir: Path, build: str, cc: Optional[str] = None) -> Path:
    """Compile the model + harness for this machine; returns the executable."""
    cc = cc or host_compiler()
    build_dir.mkdir(parents=True, exist_ok=True)
    main = build_dir / f"{compiled.name}_host_main.c"
    if not main.exists():
        render_harness(compiled, build_dir)
    exe = build_dir / f"{compiled.name}_{build}"
    cmd = [cc, *WARNINGS, *BUILDS[build], *[f"-I{d}" for d in compiled.include_dirs],
           *map(str, compiled.sources), str(main), "-o", str(exe)]
    if compiled.needs_libm:
        cmd.append("-lm")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PnetcError(f"host build '{build}' failed:\n{proc.stderr.strip()[:4000]}")
    return exe


def encode_samples(compiled, x) -> bytes:
    """The harness's stdin: u32 count, then the samples."""
    if compiled.input_kind == "text":
        parts = [np.uint32(len(x)).tobytes()]
        for t in x:
            parts += [np.uint32(len(t)).tobytes(), bytes(t)]
        return b"".join(parts)
    arr = np.ascontiguousarray(compiled.reference.encode_input(x))
    return np.uint32(arr.shape[0]).tobytes() + arr.tobytes()


def run_host(compiled, exe: Path, stdin: bytes, n: int) -> np.ndarray:
    words = (compiled.num_bits + 31) // 32
    score = np.int8 if compiled.score_dtype == "int8" else np.float32
    dtype = np.dtype([("rc", "<i4"), ("bits", "<u4", (words,)), ("scores", score, (compiled.num_classes,))])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    proc = subprocess.run([str(exe)], input=stdin, capture_output=True, env=env)
    if proc.returncode != 0:
        raise PnetcError(f"{exe.name} exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[:2000]}")
    if len(proc.stdout) != n * dtype.itemsize:
        raise PnetcError(f"{exe.name} wrote {len(proc.stdout)} bytes, expected {n * dtype.itemsize}")
    return np.frombuffer(proc.stdout, dtype=dtype)


def compare(compiled, ref, out: np.ndarray, y: Optional[np.ndarray], build: str) -> BuildResult:
    from pnetc.hashing import unpack_bits

    res = BuildResult(build)
    n = len(out)
    bad = np.zeros(n, bool)
    if compiled.num_bits:
        c_bits = unpack_bits(out["bits"], compiled.num_bits)
        b = np.any(c_bits != ref.bits, axis=1)
        res.bit_mismatches = int(b.sum())
        bad |= b
    cs, rs = out["scores"], ref.scores
    if compiled.score_dtype == "int8":
        s = np.any(cs != rs, axis=1)
    else:
        diff = np.abs(cs.astype(np.float64) - rs.astype(np.float64))
        tol = FLOAT_RTOL * np.maximum(1.0, np.max(np.abs(rs), axis=1, keepdims=True))
        s = np.any(~(diff <= tol), axis=1)
        res.max_abs_score_diff = float(np.nanmax(diff)) if diff.size else 0.0
    res.score_mismatches = int(s.sum())
    bad |= s
    p = out["rc"].astype(np.int64) != ref.predictions
    res.prediction_mismatches = int(p.sum())
    res.errors = int(np.sum(out["rc"] < 0))
    bad |= p
    res.mismatches = int(bad.sum())
    if res.mismatches:
        res.first_mismatch = int(np.flatnonzero(bad)[0])
    if y is not None and n:
        res.accuracy = float(np.mean(out["rc"] == y))
    return res


def _dataset_inputs(graph, ds):
    """Test inputs in the form the model takes."""
    if graph.input_kind == "text":
        if ds.task != "text":
            raise PnetcError(f"this is a text model but dataset {ds.name} holds {ds.task} samples")
        return ds.x_test
    if ds.task == "text":
        raise PnetcError(f"this model takes {graph.input_size} values per sample but dataset {ds.name} is text")
    x = ds.x_test
    if graph.projection is None:  # a float-input model gets the quantized values as floats (as trainer.onnx)
        x = x.astype(np.float32)
    if x.shape[1] != graph.input_size:
        raise PnetcError(f"dataset {ds.name} has {x.shape[1]} features per sample; the model takes {graph.input_size}")
    return x


def load_eval_data(graph, dataset: Optional[str], data: Optional[str], data_dir=None, limit: Optional[int] = None):
    from pnetc.datasets import load_dataset

    if dataset and data:
        raise PnetcError("pass --dataset NAME or --data FILE, not both")
    if not dataset and not data:
        # pnetc exports record their training dataset; a built-in name is a safe default
        recorded = graph.info.training.get("dataset") if isinstance(graph.info.training, dict) else None
        if recorded not in ("digits", "fashion-mnist", "langid"):
            raise PnetcError("pass --dataset NAME or --data FILE (the model does not record a built-in dataset)")
        dataset = recorded
    ds = load_dataset(dataset or data, data_dir)
    x, y = _dataset_inputs(graph, ds), ds.y_test
    if len(y) == 0:
        raise PnetcError(f"dataset {ds.name} has no test samples")
    if int(y.max()) >= graph.num_classes:
        raise PnetcError(f"dataset {ds.name} has {len(ds.labels)} classes; the model outputs {graph.num_classes}")
    if limit:
        x, y = x[:limit], y[:limit]
    return ds, x, y


def verify_model(model_path, *, dataset: Optional[str] = None, data: Optional[str] = None, data_dir=None,
                 precision: str = "int8", projection: str = "hash", calib=None, name: str = "model",
                 builds=tuple(BUILDS), limit: Optional[int] = None, keep_dir: Optional[Path] = None,
                 force: bool = False, progress=None) -> VerifyReport:
    """keep_dir: keep the generated code and builds there (a transaction: pnetc/outdir.py)."""
    from pnetc import outdir
    from pnetc.compiler import compile_model

    with (outdir.scratch("pnetc-verify-") if keep_dir is None else
          outdir.transaction(keep_dir, command="verify", force=force, flag="--keep")) as staged:
        work = staged.path
        t0 = time.perf_counter()
        compiled = compile_model(model_path, work / "model", name=name, precision=precision,
                                 projection=projection, calib=calib)
        compile_seconds = time.perf_counter() - t0
        _, x, y = load_eval_data(compiled.graph, dataset, data, data_dir, limit)
        n = len(y)
        step = progress.add_task("golden interpreter", total=2) if progress else None
        ref = compiled.reference
        packed = ref.bits(x)
        out_ref = ref.run(x, packed_bits=packed)
        if progress:
            progress.advance(step)
        out_float = ref.run(x, "float32", packed_bits=packed) if compiled.score_dtype == "int8" else out_ref
        if progress:
            progress.advance(step)
        stdin = encode_samples(compiled, x)
        results = []
        cc = host_compiler()
        for b in builds:
            task = progress.add_task(f"build + run {b}", total=2) if progress else None
            t1 = time.perf_counter()
            exe = build_host(compiled, work / "build", b, cc)
            if progress:
                progress.advance(task)
            out = run_host(compiled, exe, stdin, n)
            r = compare(compiled, out_ref, out, y, b)
            r.seconds = time.perf_counter() - t1
            results.append(r)
            if progress:
                progress.advance(task)
        ort_diff = None
        try:
            import onnxruntime  # noqa: F401  (optional: a dev dependency)
        except ImportError:
            pass
        else:
            sub = x[:1000]
            ort_diff = check_onnxruntime(model_path, build_graph_float(model_path), sub)
        return VerifyReport(
            onnxruntime_max_rel_diff=ort_diff,
            model=str(model_path), precision=precision, projection=projection, samples=n,
            mismatches=sum(r.mismatches for r in results),
            accuracy_reference=float(np.mean(out_ref.predictions == y)),
            accuracy_c=results[0].accuracy if results else float("nan"),
            accuracy_float=float(np.mean(out_float.predictions == y)),
            weight_bytes=compiled.weight_bytes, arena_bytes=compiled.arena_bytes,
            compile_seconds=compile_seconds, builds=results,
        )


def build_graph_float(model_path):
    from pnetc.compiler import build_graph

    return build_graph(model_path, precision="float32")


def evaluate_model(model_path, *, dataset: Optional[str] = None, data: Optional[str] = None, data_dir=None,
                   precision: str = "float32", calib=None, limit: Optional[int] = None) -> dict:
    """Accuracy of the golden interpreter (float32 by default: no C, no torch)."""
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    graph = build_graph(model_path, precision=precision, calib=calib)
    ds, x, y = load_eval_data(graph, dataset, data, data_dir, limit)
    ref = Reference(graph)
    out = ref.run(x)
    float_acc = float(np.mean(ref.run(x, "float32").predictions == y)) if precision != "float32" else None
    per_class = {}
    for c, label in enumerate(graph.info.labels):
        mask = y == c
        per_class[label] = {"samples": int(mask.sum()),
                            "accuracy": float(np.mean(out.predictions[mask] == c)) if mask.any() else None}
    return {"model": str(model_path), "dataset": ds.name, "precision": precision, "samples": int(len(y)),
            "accuracy": float(np.mean(out.predictions == y)), "accuracy_float": float_acc,
            "per_class": per_class, "task": ds.task}


def check_onnxruntime(model_path, graph, x) -> float:
    """Max |difference| / max(1, max |logit|) per sample between the float interpreter and
    onnxruntime on the float graph:
    the whole graph for foreign models, the sub-graph after the projection for pnetc models
    (onnxruntime does not know the ai.pnetc ops). A stripped final softmax is re-applied."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from pnetc.ir.interpret import Reference

    model = onnx.load(str(model_path))
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
        model.graph.node.remove(node)
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
    theirs = sess.run(None, {feed_name: feed})[0].astype(np.float64)
    scale = np.maximum(1.0, np.max(np.abs(theirs), axis=-1, keepdims=True))
    return float(np.max(np.abs(theirs - ours.astype(np.float64)) / scale))


def print_verify(report: VerifyReport, console) -> None:
    from rich.table import Table

    t = Table(title=f"verify {Path(report.model).name}: {report.precision}, projection {report.projection}, "
                    f"{report.samples} samples")
    for col in ("build", "mismatch", "bits", "scores", "preds", "errors", "acc C", "s"):
        t.add_column(col, justify="left" if col == "build" else "right")
    for b in report.builds:
        style = "green" if b.mismatches == 0 else "red"
        t.add_row(b.build, f"[{style}]{b.mismatches}[/]", str(b.bit_mismatches), str(b.score_mismatches),
                  str(b.prediction_mismatches), str(b.errors), f"{b.accuracy:.4f}", f"{b.seconds:.1f}")
    console.print(t)
    console.print(
        f"accuracy: reference {report.accuracy_reference:.4f}, C {report.accuracy_c:.4f}, float32 "
        f"{report.accuracy_float:.4f} (change from quantisation {report.accuracy_reference - report.accuracy_float:+.4f}); "
        f"weights {report.weight_bytes} B, arena {report.arena_bytes} B, compile {report.compile_seconds:.2f} s"
    )
    if report.onnxruntime_max_rel_diff is not None:
        console.print(f"float interpreter vs onnxruntime: max relative difference {report.onnxruntime_max_rel_diff:.2e}")
    if report.mismatches:
        firsts = ", ".join(f"{b.build}: sample {b.first_mismatch}" for b in report.builds if b.mismatches)
        console.print(f"[red]MISMATCH[/] first differing samples: {firsts}")


def print_eval(result: dict, console) -> None:
    from rich.table import Table

    console.print(f"{Path(result['model']).name} on {result['dataset']} ({result['precision']} reference): "
                  f"accuracy {result['accuracy']:.4f} over {result['samples']} test samples")
    if result.get("accuracy_float") is not None:
        console.print(f"float32 accuracy {result['accuracy_float']:.4f} (change from quantisation "
                      f"{result['accuracy'] - result['accuracy_float']:+.4f})")
    if result["task"] == "text" or len(result["per_class"]) <= 20:
        t = Table(title="per class")
        t.add_column("class")
        t.add_column("samples", justify="right")
        t.add_column("accuracy", justify="right")
        for label, v in result["per_class"].items():
            t.add_row(label, str(v["samples"]), "-" if v["accuracy"] is None else f"{v['accuracy']:.4f}")
        console.print(t)
