"""The public Python API: every pipeline stage as one function returning a typed result.

    import pnetc
    trained = pnetc.train("digits", out="runs/digits", epochs=10)
    compiled = pnetc.compile(trained, "out/model")
    report = pnetc.run(trained, board="mps2-an386")
    assert report.mismatches == 0

The `pnetc` command line is a thin layer over these functions. Each returns a frozen dataclass
with `to_dict()` (the same object `--json` prints). User errors raise `pnetc.PnetcError`.
Models can be passed as a path to a `.onnx` file, a `Model` from `pnetc.load`, or the
`TrainResult` of `pnetc.train`. torch is imported by `train` and `sweep` only.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

from pnetc import progress as _progress
from pnetc.errors import PnetcError
from pnetc.results import Result
from pnetc.training.options import with_option_keywords

PathLike = Union[str, Path]

__all__ = [
    "PnetcError", "Model", "TrainResult", "CompileResult", "VerifyResult", "BuildResult", "RunResult",
    "BenchResult", "SweepResult", "EvalResult", "PredictResult", "train", "load", "compile", "verify", "build",
    "run", "bench", "sweep", "eval", "predict",
]


if TYPE_CHECKING:
    from pnetc.evaluate import EvalResult, PredictResult, RunResult, VerifyResult
    from pnetc.measure.benchmark import BenchResult
    from pnetc.targets.build import BuildResult
    from pnetc.training.sweep import SweepResult

# Results the stages define, the API returns as they are; loaded on first use (numpy and the
# stages stay out of `import pnetc`).
_STAGE_RESULTS = {"VerifyResult": "pnetc.evaluate", "RunResult": "pnetc.evaluate", "EvalResult": "pnetc.evaluate",
                  "PredictResult": "pnetc.evaluate", "BuildResult": "pnetc.targets.build",
                  "BenchResult": "pnetc.measure.benchmark", "SweepResult": "pnetc.training.sweep"}


def __getattr__(name: str):
    if name in _STAGE_RESULTS:
        import importlib

        return getattr(importlib.import_module(_STAGE_RESULTS[name]), name)
    raise AttributeError(f"module 'pnetc.api' has no attribute {name!r}")


def _model_path(model: Any) -> Path:
    """A path to the .onnx file, from a path, a Model or a TrainResult."""
    if isinstance(model, (Model, TrainResult)):
        return Path(model.path)
    if isinstance(model, (str, Path)):
        path = Path(model)
        if path.is_dir() and (path / "model.onnx").is_file():
            return path / "model.onnx"  # a training output directory
        return path  # the stages report a missing or unreadable file
    raise PnetcError(f"expected a model path, pnetc.Model or pnetc.TrainResult, got {type(model).__name__}")


# ---- load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model(Result):
    """A model.onnx as pnetc reads it: what it takes, what it outputs, how it was trained."""

    path: Path
    sha256: str
    task: str                      # "image" | "features" | "text"
    labels: tuple[str, ...]
    input_kind: str                # "dense" | "text"
    input_size: int                # input elements per sample (0 for text)
    input_spec: dict               # dtype, shape, scale, zero_point of the input
    num_classes: int
    num_bits: int                  # projection bits (0 for a foreign float model)
    projection: dict               # the projection's parameters (T, d, kind, seed, ...)
    training: dict                 # training options and results recorded by `pnetc train`
    pnetc_format: bool             # True for a pnetc export, False for a plain float model

    @property
    def accuracy(self) -> Optional[float]:
        """The projection net's float test accuracy recorded at training time (None if unknown)."""
        return self.training.get("projection_accuracy")

    def quantize(self, x):
        """Float features [n, N] -> the uint8 levels this pnetc model takes, by its stored encoding
        (docs/format.md 2.1; the generated NAME_quantize gives the same bytes). A float-input model's
        int8 encoding comes from calibration: use `CompileResult.quantize`."""
        from pnetc.quantization import encoding_from_input_spec

        dtype = self.input_spec.get("dtype", "")
        encoding = encoding_from_input_spec({"size": self.input_size, **self.input_spec}, dtype, str(self.path))
        if encoding is None or not self.pnetc_format:
            raise PnetcError(f"{self.path}: this model records no input encoding; "
                             + ("compile it for int8 and use CompileResult.quantize" if not self.pnetc_format
                                else "it takes its inputs as they are"))
        return encoding.quantize(x)


def load(path: PathLike) -> Model:
    """Read a model.onnx (a pnetc export or a plain float MLP) without compiling it."""
    from pnetc.frontend import load_model

    path = _model_path(path)
    graph = load_model(path)
    info = graph.info
    return Model(path=path.resolve(), sha256=info.sha256, task=info.task, labels=tuple(info.labels),
                 input_kind=graph.input_kind, input_size=graph.input_size, input_spec=dict(info.input_spec),
                 num_classes=graph.num_classes, num_bits=graph.num_bits, projection=dict(info.projection),
                 training=dict(info.training), pnetc_format=info.pnetc_format)


# ---- train -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult(Result):
    """What `train` wrote and measured. `path` is the model.onnx to compile."""

    model: Path                             # model.onnx (trainer.onnx for trainer-only runs); None on torchrun ranks > 0
    dataset: str
    trainer: str
    mode: str
    projection_accuracy: Optional[float]    # float test accuracy of the projection net
    projection_accuracy_int8_sim: Optional[float]  # estimate of the int8 deployment
    trainer_accuracy: Optional[float]
    projection_bits: int
    weight_bytes: int
    trainer_weight_bytes: int
    epochs: int
    seconds: float
    trainer_model: Optional[Path] = None
    per_class_accuracy: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.model

    @property
    def accuracy(self) -> Optional[float]:
        return self.projection_accuracy

    def load(self) -> Model:
        return load(self.model)



@with_option_keywords("train")
def train(dataset: Union[str, tuple] = "digits", out: Optional[PathLike] = None, **options: Any) -> TrainResult:
    """Train a trainer and a projection net jointly (Ravi 2017) and export OUT/model.onnx.

    `dataset`: a built-in name, a data file path, or numpy arrays (x, y) / (x, y, x_test, y_test); float
    x is quantized per feature on the training split and the encoding is stored in the model
    (docs/datasets.md). The keywords are the training options, exactly those of `pnetc train --help` (declared once in
    pnetc/training/options.py; an unknown keyword is a PnetcError). Options left as None take the
    data set's defaults (docs/training.md). `fc=[0]` or `fc=[]` means no hidden layer. `out`
    defaults to runs/<dataset>. A folder that holds a run needs `resume` (continue it) or `force`
    (start over; files pnetc did not write stay untouched). `progress`: bars on stderr (None: when
    it is a terminal). Needs torch."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:  # torch missing: say which extra to install
        raise PnetcError(f"training needs torch ({exc.name} is not installed): pip install 'pnetc[train]'") from None
    from pnetc.training import train_with_options

    data = None
    if isinstance(dataset, (tuple, list)):  # (x, y) or (x, y, x_test, y_test) numpy arrays
        from pnetc.datasets import from_arrays

        if len(dataset) not in (2, 4):
            raise PnetcError(f"dataset arrays must be (x, y) or (x, y, x_test, y_test), got {len(dataset)} items")
        data = from_arrays(*dataset)
        dataset = data.name
    options["progress"] = _progress.wanted(options.get("progress"), terminal_only=False)
    from pnetc.training.options import BUDGET_LIMITS, BY_NAME, CHOSEN_BY_BUDGET, parse

    if options.get("board") is not None or any(options.get(k) is not None for k in BUDGET_LIMITS):
        values = parse({"dataset": dataset, "out": out, **options})
        given = [BY_NAME[k].flag for k in CHOSEN_BY_BUDGET if values[k] is not None]
        if given:
            pronoun = "it" if len(given) == 1 else "them"
            raise PnetcError(f"a budget search chooses {', '.join(given)} itself; drop {pronoun} or drop the budget")
        low_bit = [BY_NAME[k].flag for k in ("weight_bits", "first_layer_bits") if values[k] != 8]
        if low_bit:  # its cost model and candidates are int8 models: the bits would be silently dropped
            raise PnetcError(f"a budget search prices int8 models only; drop {', '.join(low_bit)} or drop the budget")
        return _train_within_budget(dataset, out, data_dir=values["data_dir"], epochs=values["epochs"],
                                    seed=values["seed"], board=values["board"], max_flash=values["max_flash"],
                                    max_ram=values["max_ram"], max_instructions=values["max_instructions"],
                                    plot=values["plot"], progress=values["progress"])
    if options.get("plot") is not None:
        raise PnetcError("--plot draws a budget search's frontier: give --board and a budget too")
    return _train_result(train_with_options({"dataset": dataset, "out": out, **options}, data=data))


def _train_within_budget(dataset, out, *, data_dir, epochs, seed, board, max_flash, max_ram, max_instructions,
                         plot, progress) -> TrainResult:
    """`train(board=..., max_flash=...)`: the budget search; the chosen model as a TrainResult whose
    extra["budget"] holds every candidate and the frontier."""
    from pnetc import budget as _budget
    from pnetc.measure.costmodel import parse_count, parse_size
    from pnetc.targets.boards import get_board

    if board is None:
        raise PnetcError("--max-flash/--max-ram/--max-instructions need --board BOARD (the cost model is per board)")
    get_board(board)
    limits = _budget.Budget(board, parse_size(max_flash, "--max-flash"), parse_size(max_ram, "--max-ram"),
                            parse_count(max_instructions, "--max-instructions"))
    try:
        found = _budget.search(str(dataset), out if out is not None else Path("runs") / (Path(str(dataset)).stem or "model"),
                               limits, data_dir=None if data_dir is None else str(data_dir), epochs=epochs, seed=seed,
                               plot=None if plot is None else str(plot), progress=_progress.wanted(progress))
    except ImportError as exc:
        raise PnetcError(f"training needs torch ({exc.name} is not installed): pip install 'pnetc[train]'") from None
    chosen = found.chosen
    info = {"budget": found.to_dict(), "budget_lines": _budget.table_lines(found)}
    if chosen is None:
        raise PnetcError("no trained candidate fitted the budget on the board: " + "; ".join(
            f"{r.candidate.label()} measured {r.measured}" for r in found.rows if r.measured))
    c = chosen.candidate
    return TrainResult(model=Path(chosen.model), dataset=str(dataset), trainer="none" if c.family == "mlp" else "mlp",
                       mode="budget", projection_accuracy=chosen.accuracy, projection_accuracy_int8_sim=chosen.accuracy,
                       trainer_accuracy=None, projection_bits=c.num_bits, weight_bytes=chosen.measured["flash_bytes"],
                       trainer_weight_bytes=0, epochs=epochs or 0, seconds=0.0, extra=info)


def _train_result(raw: dict) -> TrainResult:
    names = {f.name for f in dataclasses.fields(TrainResult)} - {"extra"}
    known = {k: raw.get(k) for k in names}
    # a torchrun rank other than 0 exports nothing: its result has no paths (and its stdout is muted)
    known["model"] = Path(raw["model"]) if raw.get("model") else None
    known["trainer_model"] = Path(raw["trainer_model"]) if raw.get("trainer_model") else None
    known["per_class_accuracy"] = raw.get("per_class_accuracy") or {}
    return TrainResult(**known, extra={k: v for k, v in raw.items() if k not in names})


# ---- compile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompileResult(Result):
    """The generated C library: where it is and what it costs."""

    out_dir: Path
    name: str
    precision: str
    projection: str
    header: Path
    sources: tuple[Path, ...]      # every .c to build (model, weights, runtime kernels)
    files: tuple[Path, ...]        # every file written
    input_kind: str
    input_size: int
    num_classes: int
    num_bits: int
    weight_bytes: int
    arena_bytes: int
    seconds: float
    board: Optional[str] = None
    package: Optional[str] = None  # "cmake" | "zephyr" | "arduino" when laid out as a drop-in package
    warnings: tuple[str, ...] = ()  # int8 level warnings on the --calib samples (pnetc.ir.levels)
    compiled: Any = field(default=None, repr=False, compare=False)  # pnetc.compiler.CompiledModel

    def to_dict(self) -> dict:
        """As the other results, with `sources` and `files` relative to `out_dir`."""
        d = super().to_dict()
        d["sources"] = [p.relative_to(self.out_dir).as_posix() for p in self.sources]
        d["files"] = [p.relative_to(self.out_dir).as_posix() for p in self.files]
        return d

    @property
    def reference(self):
        """The golden interpreter: `reference.run(x)` gives bits, scores and predictions."""
        return self.compiled.reference

    def quantize(self, x):
        """Float features [n, N] -> the input levels of the generated NAME_quantize, byte for byte
        (the model's per-feature encoding, its global scale, or a float-input model's int8 input scale)."""
        from pnetc.ir.inputs import input_encoding

        encoding = input_encoding(self.compiled.graph)
        if encoding is None:
            raise PnetcError("this model takes its inputs as they are (text or float32): there is nothing to quantize")
        return encoding.quantize(x)


def compile(
    model: Any,
    out_dir: PathLike,
    *,
    name: str = "model",
    precision: str = "int8",
    projection: str = "hash",
    calib: Any = None,
    board: Optional[str] = None,
    package: Optional[str] = None,
    force: bool = False,
    output: Optional[str] = None,
) -> CompileResult:
    """Compile a model to C99 in out_dir: <name>.h/.c, weights, runtime kernels, Makefile fragment, CMakeLists.txt.

    precision: int8 | float32 | binary. projection: hash (computed on the fly) | table (in flash).
    calib: an .npz path or an array of sample inputs for the int8 ranges (default: the export's).
    board: a board name from `pnetc boards`; checks that weights and arena can fit its flash and RAM
    (`build` measures the exact numbers) before anything is written. package: cmake | zephyr | arduino
    lays the library out as a drop-in package (docs/packages.md). force: write into a folder that
    holds files pnetc did not write (beside them; they are never replaced or deleted). output: the
    graph output holding the class scores, for a model with several (default: the one float
    tensor output, e.g. a scikit-learn export's probabilities; docs/compiler.md)."""
    from pnetc.compiler import compile_model

    check_fits = None
    if board is not None:
        from functools import partial

        from pnetc.targets.boards import get_board
        from pnetc.targets.fit import refuse_over_capacity

        board_obj = get_board(board)  # fail on an unknown board before writing anything
        check_fits = partial(refuse_over_capacity, board_obj)

    path = _model_path(model)
    t0 = time.perf_counter()
    cm = compile_model(path, out_dir, name=name, precision=precision, projection=projection, calib=calib,
                       force=force, check=check_fits, output=output, **({} if package is None else {"package": package}))
    seconds = time.perf_counter() - t0
    return CompileResult(
        out_dir=cm.out_dir, name=cm.name, precision=precision, projection=projection, header=cm.header,
        sources=tuple(cm.sources), files=tuple(cm.out_dir / rel for rel in cm.files), input_kind=cm.input_kind,
        input_size=cm.input_size, num_classes=cm.num_classes, num_bits=cm.num_bits, weight_bytes=cm.weight_bytes,
        arena_bytes=cm.arena_bytes, seconds=round(seconds, 4), board=board, package=package,
        warnings=tuple(cm.warnings), compiled=cm)


# ---- verify ----------------------------------------------------------------------------------


def verify(
    model: Any,
    *,
    dataset: Optional[str] = None,
    data: Optional[PathLike] = None,
    data_dir: Optional[PathLike] = None,
    precision: str = "int8",
    projection: str = "hash",
    calib: Any = None,
    name: str = "model",
    limit: Optional[int] = None,
    keep: Optional[PathLike] = None,
    force: bool = False,
    progress: Optional[bool] = None,
    output: Optional[str] = None,
) -> VerifyResult:
    """Build the generated C for this machine three ways (signed char, unsigned char, ASan+UBSan) and
    compare bits, scores and predictions of every test sample with the golden interpreter.

    Mismatches are reported in the result (`ok` is False), not raised."""
    from pnetc.evaluate import verify_model

    path = _model_path(model)
    with _progress.tracker("verify", _progress.wanted(progress)) as t:
        return verify_model(path, dataset=dataset, data=None if data is None else str(data), data_dir=data_dir,
                            precision=precision, projection=projection, calib=calib, name=name, limit=limit,
                            keep_dir=None if keep is None else Path(keep), force=force, progress=t.rich,
                            output=output)


# ---- evaluate and predict (the golden interpreter alone: no C compiler, no torch) ------------


def eval(model: Any, *, dataset: Optional[str] = None, data: Optional[PathLike] = None,
             data_dir: Optional[PathLike] = None, precision: str = "float32", calib: Any = None,
             limit: Optional[int] = None, plot: Optional[PathLike] = None, output: Optional[str] = None) -> EvalResult:
    """Score the golden interpreter on the test split. Without dataset/data, a pnetc export uses
    the data it was trained on. plot: also draw the confusion matrix into this PNG (needs matplotlib)."""
    from pnetc.evaluate import evaluate_model

    path = _model_path(model)
    d = evaluate_model(path, dataset=dataset, data=None if data is None else str(data), data_dir=data_dir,
                       precision=precision, calib=calib, limit=limit, output=output)
    png = None
    if plot is not None:
        from pnetc.metrics import plot_confusion

        png = plot_confusion(d.confusion, d.labels, Path(plot),
                             title=f"{path.name} on {d.dataset} ({precision}): accuracy {d.accuracy:.4f}")
    return dataclasses.replace(d, plot=png)


def predict(model: Any, texts: Optional[Sequence[Union[str, bytes]]] = None, *, data: Optional[PathLike] = None,
            precision: str = "float32", calib: Any = None, output: Optional[str] = None) -> PredictResult:
    """Classify texts (a text model) or the samples of a data file (file order) with the golden
    interpreter (float32 by default; int8/binary give what the device will answer)."""
    from pnetc.evaluate import predict_model

    if isinstance(texts, (str, bytes)):
        texts = [texts]
    return predict_model(_model_path(model), texts=None if texts is None else list(texts),
                         data=None if data is None else str(data), precision=precision, calib=calib, output=output)


# ---- build -----------------------------------------------------------------------------------


def build(model: Any, board: str, out_dir: PathLike, *, precision: str = "int8", calib: Optional[PathLike] = None,
          force: bool = False, progress: Optional[bool] = None, output: Optional[str] = None) -> BuildResult:
    """Compile the model for a board (see `pnetc boards`), link the firmware, measure it, and
    raise PnetcError if it does not fit (the message holds the numbers)."""
    from pnetc.targets.build import build_model

    path = _model_path(model)
    with _progress.tracker(board, _progress.wanted(progress)) as t:
        t.stage("compile + link + measure")
        return build_model(path, board, out_dir, precision=precision, calib=calib, force=force, output=output)


# ---- run -------------------------------------------------------------------------------------


def run(
    model: Any,
    board: str,
    *,
    dataset: Optional[str] = None,
    data: Optional[PathLike] = None,
    limit: Optional[int] = None,
    precision: str = "int8",
    calib: Optional[PathLike] = None,
    timeout: Optional[float] = None,
    out_dir: Optional[PathLike] = None,
    force: bool = False,
    progress: Optional[bool] = None,
    output: Optional[str] = None,
) -> RunResult:
    """Run the test split on a board (QEMU or native) and compare every answer with the golden
    interpreter. Without dataset/data, a pnetc export uses the built-in data set it was trained on.

    A mismatch is reported in the result; a fault or timeout raises pnetc.targets.run.DeviceError
    (a PnetcError with `kind` "fault" | "timeout" | "exit")."""
    from pnetc.evaluate import run_model

    path = _model_path(model)
    with _progress.tracker(board, _progress.wanted(progress)) as t:
        t.stage("compile + build")
        return run_model(path, board, dataset=dataset, data=None if data is None else str(data), limit=limit,
                         precision=precision, calib=calib, out_dir=out_dir, force=force, timeout_s=timeout,
                         progress=t.sample_callback("run"), output=output)


# ---- bench -----------------------------------------------------------------------------------


def bench(
    model: Any,
    board: str,
    *,
    n: int = 20,
    dataset: Optional[str] = None,
    data: Optional[PathLike] = None,
    precision: str = "int8",
    calib: Optional[PathLike] = None,
    timeout: Optional[float] = None,
    out_dir: Optional[PathLike] = None,
    force: bool = False,
    progress: Optional[bool] = None,
    output: Optional[str] = None,
) -> BenchResult:
    """Count the instructions of n inferences on a QEMU board (exact, not time) and measure flash/RAM.

    Samples come from the data set's test split, or are random for dense models without one."""
    from pnetc.datasets import check_limit
    from pnetc.evaluate import load_samples
    from pnetc.measure.benchmark import bench_model

    n = check_limit(n, "-n")
    path = _model_path(model)
    samples = None
    if path.is_file():  # a missing model gets the stage's error (after the board's)
        from pnetc.datasets.recorded import recorded_data
        from pnetc.frontend import load_model

        graph = load_model(path, output)  # read once: the recorded data file, then the samples' form
        training = graph.info.training
        if dataset is None and data is None and isinstance(training, dict) and "data_file" in training:
            dataset, data = recorded_data(training, path)  # a recorded built-in name keeps random samples
        if dataset is not None or data is not None:
            _, x, _ = load_samples(dataset, None if data is None else str(data), n, graph=graph)
            samples = list(x)
    with _progress.tracker(f"{board} bench", _progress.wanted(progress)) as t:
        t.stage("compile + build + measure")
        return bench_model(path, board, n=n, samples=samples, precision=precision, calib=calib, out_dir=out_dir,
                           force=force, timeout_s=timeout, progress=t.sample_callback("count instructions"),
                           output=output)


# ---- sweep -----------------------------------------------------------------------------------


@with_option_keywords("sweep")
def sweep(dataset: str = "digits", out: PathLike = "runs/sweep", *, grid: Union[str, Sequence[str], None] = None,
          modes: str = "joint,alone", force: bool = False, progress: Optional[bool] = None,
          **options: Any) -> SweepResult:
    """How many neural bits: train every grid point (e.g. grid="T=8,16 d=8 fc=0,64") joint and
    alone, plus the trainer reference; write sweep.csv and sweep.png. Resumable. The other
    keywords are the training options `pnetc sweep` shares with `pnetc train` (epochs, seed,
    trainer, kind, density, lambdas, temperature, data_dir, device). Needs torch."""
    try:
        from pnetc.training.sweep import run_sweep
    except ImportError as exc:
        raise PnetcError(f"sweeps need torch ({exc.name} is not installed): pip install 'pnetc[train]'") from None
    items = [grid] if isinstance(grid, str) else (None if grid is None else list(grid))
    return run_sweep(dataset=dataset, out=str(out), grid=items, modes=modes, force=force,
                     progress=_progress.wanted(progress, terminal_only=False), **options)
