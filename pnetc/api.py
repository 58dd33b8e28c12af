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
from typing import Any, Optional, Sequence, Union

from pnetc import progress as _progress
from pnetc.errors import PnetcError

PathLike = Union[str, Path]

__all__ = [
    "PnetcError", "Model", "TrainResult", "CompileResult", "VerifyResult", "BuildResult", "RunResult",
    "BenchResult", "SweepResult", "train", "load", "compile", "verify", "build", "run", "bench", "sweep",
]


class _Result:
    """Shared behaviour: `to_dict()` is JSON-ready (paths as strings, no private fields)."""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_") or not f.repr:
                continue
            out[f.name] = _jsonable(getattr(self, f.name))
        extra = out.pop("extra", None)
        if isinstance(extra, dict):
            out.update(extra)
        return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


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


def _recorded_dataset(path: Path) -> Optional[str]:
    """The built-in data set a pnetc export was trained on (None for others and foreign models)."""
    from pnetc.frontend import load_model

    training = load_model(path).info.training
    name = training.get("dataset") if isinstance(training, dict) else None
    return name if name in ("digits", "fashion-mnist", "langid") else None


# ---- load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model(_Result):
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
class TrainResult(_Result):
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



def _check_hidden_widths(fc: Optional[list[int]], tables: Optional[int], bits_per_table: Optional[int]) -> None:
    """--fc within what the compiler accepts (pnetc.ir.limits), before torch tries to allocate it:
    `--fc 100000000` asked for 288 GB and ended in a traceback."""
    from pnetc.ir.limits import MAX_DENSE_WEIGHTS, MAX_LAYER_WIDTH

    widths = [w for w in fc or [] if isinstance(w, int) and w > 0]
    if any(w > MAX_LAYER_WIDTH for w in widths):
        raise PnetcError(f"--fc widths must be at most {MAX_LAYER_WIDTH:,}, got {fc}")
    bits = tables * bits_per_table if isinstance(tables, int) and isinstance(bits_per_table, int) else None
    chain = ([bits] if bits and bits > 0 else []) + widths
    weights = sum(a * b for a, b in zip(chain, chain[1:]))
    if weights > MAX_DENSE_WEIGHTS:
        raise PnetcError(f"--fc {fc} needs {weights:,} weights; a compiled model may have at most {MAX_DENSE_WEIGHTS:,}")

def train(
    dataset: str = "digits",
    out: Optional[PathLike] = None,
    *,
    data_dir: Optional[PathLike] = None,
    trainer: Optional[str] = None,
    tables: Optional[int] = None,
    bits_per_table: Optional[int] = None,
    kind: Optional[str] = None,
    density: Optional[float] = None,
    fc: Optional[Sequence[int]] = None,
    lambdas: Union[str, Sequence[float], None] = None,
    temperature: float = 1.0,
    epochs: Optional[int] = None,
    batch_size: Optional[int] = None,
    lr: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
    center: bool = True,
    balance: Optional[bool] = None,
    qat: bool = False,
    weight_bits: int = 8,
    first_layer_bits: int = 8,
    projection_only: bool = False,
    trainer_only: bool = False,
    resume: bool = False,
    force: bool = False,
    progress: Optional[bool] = None,
    char_max_n: Optional[int] = None,
    words: Optional[bool] = None,
) -> TrainResult:
    """Train a trainer and a projection net jointly (Ravi 2017) and export OUT/model.onnx.

    Options left as None take the data set's defaults (docs/training.md). `fc=[0]` or `fc=[]`
    means no hidden layer. `out` defaults to runs/<dataset>. `balance`: class-weighted loss
    (None: the data set's default). A folder that holds a run needs `resume` (continue it) or `force`
    (start over; files pnetc did not write stay untouched). `char_max_n`, `words`: the text featurizer's
    char n-gram orders and word features (None: the data set's default). `weight_bits`: 8, 4 or 1
    for the hidden layers after the first (trained on their grid; docs/training.md); `first_layer_bits`
    1 trains the layer over the bits as +-alpha (what --precision binary compiles). Needs torch."""
    try:
        from pnetc.training import run_from_cli
    except ImportError as exc:  # torch missing: say which extra to install
        raise PnetcError(f"training needs torch ({exc.name} is not installed): pip install 'pnetc[train]'") from None
    if lambdas is not None and not isinstance(lambdas, str):
        lambdas = ",".join(str(float(v)) for v in lambdas)
    fc_list = None if fc is None else ([0] if len(fc) == 0 else [int(w) for w in fc])
    _check_hidden_widths(fc_list, tables, bits_per_table)
    raw = run_from_cli(
        dataset=str(dataset), out=None if out is None else str(out), data_dir=None if data_dir is None else str(data_dir),
        trainer=trainer, tables=tables, bits_per_table=bits_per_table, kind=kind, density=density, fc=fc_list,
        lambdas=lambdas, temperature=temperature, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
        device=device, center=center, qat=qat, weight_bits=weight_bits,
        first_layer_bits=first_layer_bits, projection_only=projection_only, trainer_only=trainer_only,
        resume=resume, force=force, progress=_progress.wanted(progress, terminal_only=False),
        char_max_n=char_max_n, words=words,
        **({} if balance is None else {"balance": balance}),
    )
    return _train_result(raw)


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
class CompileResult(_Result):
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
) -> CompileResult:
    """Compile a model to C99 in out_dir: <name>.h/.c, weights, runtime kernels, Makefile fragment, CMakeLists.txt.

    precision: int8 | float32 | binary. projection: hash (computed on the fly) | table (in flash).
    calib: an .npz path or an array of sample inputs for the int8 ranges (default: the export's).
    board: a board name from `pnetc boards`; checks that weights and arena can fit its flash and RAM
    (`build` measures the exact numbers) before anything is written. package: cmake | zephyr | arduino
    lays the library out as a drop-in package (docs/packages.md). force: write into a folder that
    holds files pnetc did not write (beside them; they are never replaced or deleted)."""
    from pnetc.compiler import compile_model

    board_obj = None
    if board is not None:
        from pnetc.targets.boards import get_board

        board_obj = get_board(board)  # fail on an unknown board before writing anything

    def check_fits(cm) -> None:
        if board_obj is None:
            return
        if board_obj.flash_size and cm.weight_bytes > board_obj.flash_size:
            raise PnetcError(f"the weights alone ({cm.weight_bytes:,} bytes) exceed the {board_obj.flash_size:,} "
                             f"bytes of flash of {board_obj.name}; train a smaller model or use --precision binary")
        if board_obj.ram_size and cm.arena_bytes > board_obj.ram_size:
            raise PnetcError(f"the arena ({cm.arena_bytes:,} bytes) exceeds the {board_obj.ram_size:,} bytes of RAM "
                             f"of {board_obj.name}; use fewer hidden units")

    path = _model_path(model)
    t0 = time.perf_counter()
    cm = compile_model(path, out_dir, name=name, precision=precision, projection=projection, calib=calib,
                       force=force, check=check_fits, **({} if package is None else {"package": package}))
    seconds = time.perf_counter() - t0
    return CompileResult(
        out_dir=cm.out_dir, name=cm.name, precision=precision, projection=projection, header=cm.header,
        sources=tuple(cm.sources), files=tuple(cm.out_dir / rel for rel in cm.files), input_kind=cm.input_kind,
        input_size=cm.input_size, num_classes=cm.num_classes, num_bits=cm.num_bits, weight_bytes=cm.weight_bytes,
        arena_bytes=cm.arena_bytes, seconds=round(seconds, 4), board=board, package=package, compiled=cm)


# ---- verify ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult(_Result):
    """Host builds of the generated C compared sample by sample with the golden interpreter."""

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
    builds: tuple[dict, ...]                 # per build: mismatches by kind, accuracy, seconds
    onnxruntime_max_rel_diff: Optional[float] = None
    accuracy_change: float = 0.0             # reference (quantised) minus float32
    _report: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


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
) -> VerifyResult:
    """Build the generated C for this machine three ways (signed char, unsigned char, ASan+UBSan) and
    compare bits, scores and predictions of every test sample with the golden interpreter.

    Mismatches are reported in the result (`ok` is False), not raised."""
    from pnetc.evaluate import verify_model

    path = _model_path(model)
    with _progress.tracker("verify", _progress.wanted(progress)) as t:
        report = verify_model(path, dataset=dataset, data=None if data is None else str(data), data_dir=data_dir,
                              precision=precision, projection=projection, calib=calib, name=name, limit=limit,
                              keep_dir=None if keep is None else Path(keep), force=force, progress=t.rich)
    d = report.as_dict()
    return VerifyResult(**{k: d[k] for k in d if k != "builds"}, builds=tuple(d["builds"]), _report=report)


# ---- build -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildResult(_Result):
    """Firmware for one board and the model's measured flash and RAM (delta against the same
    firmware without the model)."""

    board: str
    core: str
    precision: str
    model: str
    out_dir: Path
    elf: Path
    bin: Optional[Path]
    map: Optional[Path]
    size_report: Path
    flash_bytes: int               # model code + weights
    flash_code_bytes: int
    flash_weight_bytes: int
    ram_bytes: int                 # model static RAM (the arena)
    ram_arena_bytes: int
    stack_high_water_bytes: Optional[int]
    image_flash_bytes: int
    image_ram_bytes: int
    fits: bool
    extra: dict = field(default_factory=dict)  # section breakdowns and board capacities
    _build: Any = field(default=None, repr=False, compare=False)


def build(model: Any, board: str, out_dir: PathLike, *, precision: str = "int8", calib: Optional[PathLike] = None,
          force: bool = False, progress: Optional[bool] = None) -> BuildResult:
    """Compile the model for a board (see `pnetc boards`), link the firmware, measure it, and
    raise PnetcError if it does not fit (the message holds the numbers)."""
    from pnetc.targets.build import build_model

    path = _model_path(model)
    out = Path(out_dir).resolve()  # the emulator runs in another directory
    with _progress.tracker(board, _progress.wanted(progress)) as t:
        t.stage("compile + link + measure")
        result = build_model(path, board, out, precision=precision, calib=calib, force=force)
    s = result.size.to_dict()
    fw = result.firmware
    keys = ("flash_bytes", "flash_code_bytes", "flash_weight_bytes", "ram_bytes", "ram_arena_bytes",
            "stack_high_water_bytes", "image_flash_bytes", "image_ram_bytes", "fits")
    return BuildResult(board=result.board.name, core=result.board.core, precision=precision, model=str(path), out_dir=out, elf=fw.elf,
                       bin=fw.bin or None, map=fw.map or None, size_report=out / "size_report.json",
                       **{k: s[k] for k in keys}, extra={k: v for k, v in s.items() if k not in keys and k != "board"},
                       _build=result)


# ---- run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult(_Result):
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
) -> RunResult:
    """Run the test split on a board (QEMU or native) and compare every answer with the golden
    interpreter. Without dataset/data, a pnetc export uses the built-in data set it was trained on.

    A mismatch is reported in the result; a fault or timeout raises pnetc.targets.run.DeviceError
    (a PnetcError with `kind` "fault" | "timeout" | "exit")."""
    from pnetc.evaluate import run_model

    path = _model_path(model)
    if dataset is None and data is None:
        dataset = _recorded_dataset(path)
        if dataset is None:
            raise PnetcError("pass dataset=NAME or data=FILE (the model does not record a built-in data set)")
    with _progress.tracker(board, _progress.wanted(progress)) as t:
        t.stage("compile + build")
        report = _kept_in(out_dir, "run", force, lambda where: run_model(
            path, board, dataset=dataset, data=None if data is None else str(data), limit=limit,
            precision=precision, calib=calib, out_dir=where, timeout_s=timeout, progress=t.sample_callback("run")))
    d = report.to_dict()
    d["status"] = "ok" if not report.mismatches else "mismatch"
    d["first_mismatches"] = tuple(d["first_mismatches"])
    return RunResult(**d)


def _kept_in(out_dir: Optional[PathLike], command: str, force: bool, work):
    """Call work(folder): a transaction into out_dir (pnetc/outdir.py), or work(None) without one.
    A fault or timeout still keeps the files: they are what explains it."""
    if out_dir is None:
        return work(None)
    from pnetc import outdir
    from pnetc.targets.run import DeviceError

    failure = None
    with outdir.transaction(out_dir, command=command, force=force) as staged:
        try:
            value = work(staged.path)
        except DeviceError as exc:
            failure = exc
    if failure is not None:
        raise failure
    return value


# ---- bench -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchResult(_Result):
    """Exact instruction counts (QEMU TCG plugin) per inference and per stage, and flash/RAM."""

    board: str
    core: str
    precision: str
    samples: int
    instructions_per_inference: float    # mean over the samples
    instructions_min: int
    instructions_max: int
    stages: tuple[dict, ...]             # per stage: name, mean, min, max
    flash_bytes: int
    flash_code_bytes: int
    flash_weight_bytes: int
    ram_bytes: int                       # static + stack high-water
    ram_static_bytes: int
    ram_arena_bytes: int
    stack_high_water_bytes: Optional[int]
    mismatches: int
    extra: dict = field(default_factory=dict)  # size breakdown, marker overhead, labelled cycle estimate

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


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
) -> BenchResult:
    """Count the instructions of n inferences on a QEMU board (exact, not time) and measure flash/RAM.

    Samples come from the data set's test split, or are random for dense models without one."""
    from pnetc.datasets import check_limit
    from pnetc.evaluate import load_samples
    from pnetc.measure.benchmark import bench_model

    n = check_limit(n, "-n")
    path = _model_path(model)
    samples = None
    if dataset is not None or data is not None:
        _, x, _ = load_samples(dataset, None if data is None else str(data), n)
        samples = list(x)
    with _progress.tracker(f"{board} bench", _progress.wanted(progress)) as t:
        t.stage("compile + build + measure")
        report = _kept_in(out_dir, "bench", force, lambda where: bench_model(
            path, board, n=n, samples=samples, precision=precision, calib=calib,
            out_dir=where, timeout_s=timeout, progress=t.sample_callback("count instructions")))
    d = report.to_dict()
    names = {f.name for f in dataclasses.fields(BenchResult)} - {"extra"}
    known = {k: d[k] for k in names}
    known["stages"] = tuple(d["stages"])
    return BenchResult(**known, extra={k: v for k, v in d.items() if k not in names})


# ---- sweep -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult(_Result):
    """A (T, d, FC) grid trained joint and alone: one row per run (see docs/sweep.md)."""

    csv: Path
    png: Path
    trained: int
    skipped: int
    rows: tuple[dict, ...]


def sweep(
    dataset: str = "digits",
    out: PathLike = "runs/sweep",
    *,
    grid: Union[str, Sequence[str], None] = None,
    modes: str = "joint,alone",
    epochs: Optional[int] = None,
    seed: int = 0,
    trainer: Optional[str] = None,
    kind: Optional[str] = None,
    density: Optional[float] = None,
    lambdas: Optional[str] = None,
    temperature: float = 1.0,
    data_dir: Optional[PathLike] = None,
    device: str = "auto",
    force: bool = False,
    progress: Optional[bool] = None,
) -> SweepResult:
    """How many neural bits: train every grid point (e.g. grid="T=8,16 d=8 fc=0,64") joint and
    alone, plus the trainer reference; write sweep.csv and sweep.png. Resumable. Needs torch."""
    try:
        from pnetc.training.sweep import run_sweep
    except ImportError as exc:
        raise PnetcError(f"sweeps need torch ({exc.name} is not installed): pip install 'pnetc[train]'") from None
    items = [grid] if isinstance(grid, str) else (None if grid is None else list(grid))
    raw = run_sweep(dataset=dataset, out=str(out), grid=items, modes=modes, epochs=epochs, seed=seed, trainer=trainer,
                    kind=kind, density=density, lambdas=lambdas, temperature=temperature,
                    data_dir=None if data_dir is None else str(data_dir), device=device, force=force,
                    progress=_progress.wanted(progress, terminal_only=False))
    return SweepResult(csv=Path(raw["csv"]), png=Path(raw["png"]), trained=raw["trained"], skipped=raw["skipped"],
                       rows=tuple(raw["rows"]))
