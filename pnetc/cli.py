"""The `pnetc` command line. It parses arguments and calls the pipeline stages; no logic lives here.

Every user error surfaces as one line `pnetc: error: ...` and exit code 2; with `--json`, the last
stdout line is then `{"error": "..."}`.
Heavy imports (torch, onnx) happen inside the commands so `pnetc --help` starts fast.
"""

from __future__ import annotations

import inspect
import signal
import sys
import threading
from typing import Optional

import typer

from pnetc import __version__
from pnetc.errors import PnetcError
from pnetc.progress import print_json, printable

app = typer.Typer(
    name="pnetc",
    help="Train ProjectionNet models and compile them to bit-exact C99 for microcontrollers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pnetc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output (results and errors still print)."),
) -> None:
    """pnetc: ProjectionNet trainer and compiler."""
    from pnetc.progress import set_quiet

    set_quiet(quiet)


def fail(message: str) -> "typer.Exit":
    """Print the one-line error and return an Exit(2) to raise."""
    typer.echo(f"pnetc: error: {printable(message)}", err=True)
    return typer.Exit(2)


# ---- commands ---------------------------------------------------------------
_FORCE_HELP = "Write into a folder that holds files pnetc did not write (beside them, never over them)."
# Each command imports its stage lazily and only translates arguments.


def _with_training_options(command: str):
    """Decorator: the command's own parameters, then the training options of `command` as Typer
    options, flags and --help from the one schema (pnetc/training/options.py)."""
    from pnetc.training.options import for_command

    def decorate(func):
        own = [p for p in inspect.signature(func).parameters.values() if p.kind != p.VAR_KEYWORD]
        names = {p.name for p in own}
        options = [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, annotation=o.type,
                                     default=typer.Option(o.default, *o.cli_flags,
                                                          help=(command == "sweep" and o.sweep_help) or o.help))
                   for o in for_command(command) if o.cli and o.name not in names]
        arguments = [p for p in own if isinstance(p.default, typer.models.ArgumentInfo)]
        rest = [p.replace(kind=p.KEYWORD_ONLY) for p in own if p not in arguments]
        func.__signature__ = inspect.Signature([*arguments, *options, *rest])
        return func
    return decorate


@app.command("train")
@_with_training_options("train")
def train_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
    **options,
) -> None:
    """Train a trainer and a projection net jointly and export DIR/model.onnx (or, with --board and a
    budget, the best model of the family that fits it)."""
    from pnetc import api
    from pnetc.report import summary_lines

    result = api.train(**options).to_dict()
    if json_out:
        result.pop("budget_lines", None)
        print_json(result)
    else:
        for line in summary_lines(result):
            typer.echo(line)


@app.command("sweep")
@_with_training_options("sweep")
def sweep_cmd(
    grid_items: Optional[list[str]] = typer.Argument(None, metavar="[KEY=VALUES]...", help="More grid items, e.g. d=10,12."),
    out: str = typer.Option(..., "--out", help="Output directory: sweep.csv, sweep.png, runs/<config>/model.onnx."),
    grid: Optional[list[str]] = typer.Option(
        None, "--grid", help="Grid 'T=8,10,60 d=10,12 fc=0,128,256-128' (default 'T=2,4,8,16,32 d=8 fc=0,64')."
    ),
    modes: str = typer.Option("joint,alone", "--modes", help="joint, alone (projection net trained alone), or both."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
    **options,
) -> None:
    """How many neural bits: train a (T, d, FC) grid joint and alone; write sweep.csv and sweep.png. Resumable."""
    from pnetc import api
    from pnetc.report import print_sweep

    items = [*(grid or []), *(grid_items or [])] or None
    result = api.sweep(out=out, grid=items, modes=modes, force=force, **options).to_dict()
    if json_out:
        print_json(result)
    else:
        print_sweep(result)


# ---- compiler commands (compile, inspect, eval, verify) ----------------------

_CALIB_HELP = (".npz of sample inputs (array x) for the int8 ranges; a model without pnetc.calibration "
               "metadata (e.g. a plain torch or scikit-learn export) needs it for int8")
_PRECISION_HELP = "float32 | int8 | binary (1-bit first layer, int8 after)."
_PROJECTION_HELP = "hash (on the fly, no table) | table (projection stored in flash)."
_OUTPUT_HELP = ("The graph output holding the class scores, for a model with several (default: the one float "
                "tensor output, e.g. a scikit-learn export's probabilities).")


@app.command("compile")
def compile_cmd(
    model: str = typer.Argument(..., help="The .onnx model (a pnetc export or a plain float MLP)."),
    out: str = typer.Option(..., "-o", "--out", help="Output directory (pnetc's files in it replaced atomically)."),
    name: str = typer.Option("model", "--name", help="C prefix of every symbol."),
    precision: str = typer.Option("int8", "--precision", help=_PRECISION_HELP),
    projection: str = typer.Option("hash", "--projection", help=_PROJECTION_HELP),
    calib: Optional[str] = typer.Option(None, "--calib", help=".npz of sample inputs (array x) for int8 ranges."),
    package: Optional[str] = typer.Option(
        None, "--package", help="cmake | zephyr | arduino: write a drop-in package (docs/packages.md)."),
    board: Optional[str] = typer.Option(None, "--board", "-b", help="Check weights and arena fit this board."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Compile MODEL to C99: <name>.h/.c, <name>_weights.c, runtime kernels, Makefile fragment, CMakeLists.txt."""
    from pnetc import api

    cm = api.compile(model, out, name=name, precision=precision, projection=projection, calib=calib,
                     board=board, package=package, force=force, output=output)
    _print_warnings(cm.warnings)
    if json_out:
        print_json(cm.to_dict())
    else:
        typer.echo(f"wrote {len(cm.sources)} sources to {cm.out_dir}: weights {cm.weight_bytes} B, "
                   f"arena {cm.arena_bytes} B, {cm.seconds:.2f} s")


def _print_warnings(lines) -> None:
    for line in lines:
        typer.echo(f"pnetc: warning: {line}", err=True)


@app.command("inspect")
def inspect_cmd(
    model: str = typer.Argument(..., help="The .onnx model."),
    precision: str = typer.Option("int8", "--precision", help=_PRECISION_HELP),
    projection: str = typer.Option("hash", "--projection", help=_PROJECTION_HELP),
    calib: Optional[str] = typer.Option(None, "--calib", help=".npz of sample inputs for int8 ranges."),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Print the compiled graph: per-layer parameters and bytes, and the memory plan."""
    from rich.console import Console

    from pnetc.compiler import build_graph
    from pnetc.ir.summary import summary
    from pnetc.report import print_graph

    info = summary(build_graph(model, precision=precision, projection=projection, calib=calib, output=output))
    if json_out:
        print_json(info)
    else:
        print_graph(info, Console())


@app.command("eval")
def eval_cmd(
    model: str = typer.Argument(..., help="The .onnx model."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="digits, fashion-mnist, langid or a data path."),
    data: Optional[str] = typer.Option(None, "--data", help="A CSV/JSONL/NPZ file instead of --dataset."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where the dataset's files live."),
    precision: str = typer.Option("float32", "--precision", help="Reference precision: " + _PRECISION_HELP),
    calib: Optional[str] = typer.Option(None, "--calib", help=".npz of sample inputs for int8 ranges."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N test samples."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Also draw the confusion matrix into this PNG file."),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix of the numpy golden
    interpreter on the test split (no C, no torch)."""
    from pnetc import api
    from pnetc.report import print_eval

    result = api.eval(model, dataset=dataset, data=data, data_dir=data_dir, precision=precision,
                          calib=calib, limit=limit, plot=plot, output=output).to_dict()
    if json_out:
        print_json(result)
    else:
        from rich.console import Console

        print_eval(result, Console())


@app.command("predict")
def predict_cmd(
    model: str = typer.Argument(..., help="The .onnx model."),
    texts: Optional[list[str]] = typer.Argument(None, help="Texts to classify (text models)."),
    data: Optional[str] = typer.Option(None, "--data", help="Samples to classify: .npz/.npy/.csv (features), "
                                                            ".txt/.csv/.jsonl (text)."),
    precision: str = typer.Option("float32", "--precision", help="Reference precision: " + _PRECISION_HELP),
    calib: Optional[str] = typer.Option(None, "--calib", help=_CALIB_HELP),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """The label of each sample from the numpy golden interpreter (no compiler, no torch)."""
    from pnetc import api
    from pnetc.report import print_predict

    result = api.predict(model, texts, data=data, precision=precision, calib=calib, output=output).to_dict()
    if json_out:
        print_json(result)
    else:
        print_predict(result)


@app.command("verify")
def verify_cmd(
    model: str = typer.Argument(..., help="The .onnx model."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="digits, fashion-mnist, langid or a data path."),
    data: Optional[str] = typer.Option(None, "--data", help="A CSV/JSONL/NPZ file instead of --dataset."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where the dataset's files live."),
    precision: str = typer.Option("int8", "--precision", help=_PRECISION_HELP),
    projection: str = typer.Option("hash", "--projection", help=_PROJECTION_HELP),
    calib: Optional[str] = typer.Option(None, "--calib", help=".npz of sample inputs for int8 ranges."),
    name: str = typer.Option("model", "--name", help="C prefix of every symbol."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N test samples."),
    keep: Optional[str] = typer.Option(None, "--keep", help="Keep the generated code and builds in this directory."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Build the generated C for the host 3 ways and compare every test sample with the golden interpreter."""
    from rich.console import Console

    from pnetc import api
    from pnetc.report import print_verify

    result = api.verify(model, dataset=dataset, data=data, data_dir=data_dir, precision=precision,
                        projection=projection, calib=calib, name=name, limit=limit, keep=keep, force=force,
                        output=output)
    _print_warnings(result.warnings)
    print_verify(result, Console(stderr=json_out))
    if json_out:
        print_json(result.to_dict())
    if result.mismatches:
        raise typer.Exit(1)


@app.command("boards")
def boards_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """List every board: flash, RAM, and whether it can build and run on this machine."""
    from pnetc.report import boards_command

    raise typer.Exit(boards_command(json_out))


@app.command("build")
def build_cmd(
    model: str = typer.Argument(..., help="The model (model.onnx)."),
    board: str = typer.Option(..., "--board", "-b", help="Board name (see `pnetc boards`)."),
    out: str = typer.Option(..., "-o", "--out", help="Output directory (firmware.elf/.bin/.map, size_report.json)."),
    precision: str = typer.Option("int8", "--precision", help="int8 | float32 | binary"),
    calib: Optional[str] = typer.Option(None, "--calib", help=_CALIB_HELP),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Build firmware for a board, report the model's flash/RAM, refuse (exit 2) if it does not fit."""
    from pnetc.report import build_command

    raise typer.Exit(build_command(model, board, out, precision, json_out, force, calib=calib, output=output))


@app.command("run")
def run_cmd(
    model: str = typer.Argument(..., help="The model (model.onnx)."),
    board: str = typer.Option(..., "--board", "-b", help="Board name (see `pnetc boards`)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="digits, fashion-mnist, langid, ..."),
    data: Optional[str] = typer.Option(None, "--data", help="A CSV/JSONL/NPZ/IDX data file instead of --dataset."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N test samples."),
    precision: str = typer.Option("int8", "--precision", help="int8 | float32 | binary"),
    calib: Optional[str] = typer.Option(None, "--calib", help=_CALIB_HELP),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds before the firmware is killed."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Keep the build and run files in this directory."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Run every test sample on the board (QEMU or native) and compare with the golden interpreter.

    Exit 0 when all match, 1 on a mismatch, 3 on a fault, 4 on a timeout."""
    from pnetc.report import run_command

    raise typer.Exit(run_command(model, board, dataset, data, limit, precision, timeout, out, json_out, force,
                                 calib=calib, output=output))


@app.command("bench")
def bench_cmd(
    model: str = typer.Argument(..., help="The model (model.onnx)."),
    board: str = typer.Option(..., "--board", "-b", help="Board name (see `pnetc boards`)."),
    n: int = typer.Option(20, "-n", help="Number of samples to count."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Take the samples from this data set's test split."),
    data: Optional[str] = typer.Option(None, "--data", help="Take the samples from this data file."),
    precision: str = typer.Option("int8", "--precision", help="int8 | float32 | binary"),
    calib: Optional[str] = typer.Option(None, "--calib", help=_CALIB_HELP),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds before the firmware is killed."),
    output: Optional[str] = typer.Option(None, "--output", help=_OUTPUT_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Exact instructions per inference and per stage (QEMU plugin), flash and RAM of the model."""
    from pnetc.report import bench_command

    raise typer.Exit(bench_command(model, board, n, dataset, data, precision, timeout, json_out, calib=calib,
                                   output=output))


@app.command("demo")
def demo_cmd(
    board: str = typer.Option("mps2-an386", "--board", "-b", help="A board that runs here (see `pnetc boards`)."),
    out: str = typer.Option("runs/demo", "-o", "--out", help="Where the model, C library, firmware and runs go."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Training epochs (default: the digits default)."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """The whole job on digits: train, compile int8, build, run every test sample on the board under
    QEMU (0 mismatches required, else exit 1), bench it, and print accuracy, flash, RAM and instructions."""
    from pnetc.demo import run_demo
    from pnetc.report import print_demo
    from pnetc.progress import is_quiet

    def log(text: str) -> None:
        if not is_quiet():
            typer.echo(f"pnetc demo: {text}", err=True)

    result = run_demo(board, out, epochs=epochs, log=log, force=force)
    print_demo(result, stderr=json_out)
    if json_out:
        print_json(result.to_dict())
    if result.mismatches:
        typer.echo(f"pnetc: error: mismatch: {result.mismatches} samples differ from the reference", err=True)
        raise typer.Exit(1)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where pnetc is, so it unwinds like Ctrl-C: every finally block runs,
    emulators are killed (their process group) and temp folders are removed."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_stopped_by: Optional[int] = None


def _on_stop_signal(signum, frame) -> None:
    global _stopped_by
    _stopped_by = signum
    for s in STOP_SIGNALS:  # one unwinding: a second signal must not cut the cleanup short
        signal.signal(s, signal.SIG_IGN)
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _user_error(message: str, json_out: bool) -> None:
    """The one stderr line, `{"error": ...}` as the last stdout line under --json, exit 2."""
    if json_out:
        print_json({"error": message})
    typer.echo(f"pnetc: error: {printable(message)}", err=True)
    sys.exit(2)


def main(argv: Optional[list[str]] = None) -> None:
    """Console entry point. SIGINT, SIGTERM and SIGHUP unwind (cleaning up), print one line and
    exit 128 + the signal number, even when something on the way caught the interrupt."""
    global _stopped_by
    _stopped_by = None
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _on_stop_signal) for s in STOP_SIGNALS} if in_main_thread else {}
    signalled = True
    try:
        _main(argv)
    except KeyboardInterrupt as exc:
        signalled = _stopped_by is not None
        _stopped_by = _stopped_by or getattr(exc, "signum", signal.SIGINT)
    except SystemExit:
        if _stopped_by is None:
            raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    name = signal.Signals(_stopped_by).name
    if not signalled:
        text = "interrupted"  # a KeyboardInterrupt raised in the program, not a signal
    elif _stopped_by == signal.SIGINT:
        text = f"interrupted ({name})"
    else:
        text = f"terminated by {name}"
    typer.echo(f"pnetc: error: {text}", err=True)
    sys.exit(128 + _stopped_by)


def _main(argv: Optional[list[str]]) -> None:
    """Run the app and turn every user error into one line and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        args = ["--help"]
    json_out = "--json" in (args[:args.index("--")] if "--" in args else args)
    try:
        rv = app(args=args, prog_name="pnetc", standalone_mode=False)
    except PnetcError as exc:
        _user_error(str(exc), json_out)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:  # click's name for a KeyboardInterrupt: main() reports it once
        raise KeyboardInterrupt from None
    except typer.TyperException as exc:  # usage errors: bad options, missing arguments
        _user_error(exc.format_message(), json_out)
    except OSError as exc:  # e.g. an output directory that cannot be created or written
        where = f": {exc.filename}" if exc.filename else ""
        _user_error(f"{exc.strerror or exc}{where} (check that the path exists and is writable)", json_out)
    if rv == 130:  # click's standalone_mode=False answer to a KeyboardInterrupt: main() reports it once
        raise KeyboardInterrupt
    sys.exit(rv if isinstance(rv, int) else 0)
