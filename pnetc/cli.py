"""The `pnetc` command line. It parses arguments and calls the pipeline stages; no logic lives here.

Every user error surfaces as one line `pnetc: error: ...` and exit code 2; with `--json`, the last
stdout line is then `{"error": "..."}`.
Heavy imports (torch, onnx) happen inside the commands so `pnetc --help` starts fast.
"""

from __future__ import annotations

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


@app.command("train")
def train_cmd(
    dataset: str = typer.Option("digits", "--dataset", help="digits, fashion-mnist, langid, or a CSV/JSONL/NPZ/IDX path."),
    out: Optional[str] = typer.Option(
        None, "--out", help="Output directory for model.onnx, trainer.onnx, checkpoint.pt (default runs/<dataset>)."
    ),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where the dataset's files live."),
    trainer: Optional[str] = typer.Option(
        None, "--trainer", help="mlp | cnn | lstm | none (default: mlp; none for text: the projection net alone)."
    ),
    tables: Optional[int] = typer.Option(None, "-T", "--tables", help="T: projection functions."),
    bits_per_table: Optional[int] = typer.Option(None, "-d", "--bits-per-table", help="d: bits per function."),
    kind: Optional[str] = typer.Option(None, "--kind", help="binary | ternary projection."),
    density: Optional[float] = typer.Option(None, "--density", help="Ternary density rho in (0, 1]."),
    fc: Optional[list[int]] = typer.Option(None, "--fc", help="Hidden layer width (repeat; --fc 0 for none)."),
    lambdas: Optional[str] = typer.Option(None, "--lambdas", help="l1,l2,l3 loss weights (default 1.0,0.0,1.0: no distillation)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Distillation temperature."),
    epochs: Optional[int] = typer.Option(None, "--epochs"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    lr: Optional[float] = typer.Option(None, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    center: bool = typer.Option(True, "--center/--no-center", help="Subtract the integer training mean."),
    balance: Optional[bool] = typer.Option(
        None, "--balance/--no-balance", help="Class-weighted loss (default: on for langid, off otherwise)."
    ),
    qat: bool = typer.Option(False, "--qat", help="Int8 quantization-aware fine-tuning in the last epochs."),
    weight_bits: int = typer.Option(8, "--weight-bits", help="Layers after the first: 8 (int8), 4 (packed int4) or "
                                                              "1 (+-1), trained on their grid."),
    first_layer_bits: int = typer.Option(8, "--first-layer-bits", help="The layer over the bits: 8, or 1 (+-1, "
                                                                        "trained for --precision binary)."),
    projection_only: bool = typer.Option(False, "--projection-only", help="Train the projection net alone."),
    trainer_only: bool = typer.Option(False, "--trainer-only", help="Train the trainer alone."),
    resume: bool = typer.Option(False, "--resume", help="Continue from DIR/checkpoint.pt."),
    force: bool = typer.Option(False, "--force", help="Start over in a DIR that holds a run, or write beside "
                                                      "files pnetc did not write (never over them)."),
    char_max_n: Optional[int] = typer.Option(None, "--char-max-n", help="Text: char n-grams of orders 1..N (0: none)."),
    words: Optional[bool] = typer.Option(None, "--words/--no-words", help="Text: word uni/bi/skip-gram features."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Train a trainer and a projection net jointly and export DIR/model.onnx."""
    from pnetc import api
    from pnetc.report import summary_lines

    result = api.train(
        dataset, out, data_dir=data_dir, trainer=trainer, tables=tables,
        bits_per_table=bits_per_table, kind=kind, density=density, fc=fc, lambdas=lambdas,
        temperature=temperature, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
        center=center, balance=balance, qat=qat, weight_bits=weight_bits,
        first_layer_bits=first_layer_bits, projection_only=projection_only, trainer_only=trainer_only, resume=resume,
        force=force,
        char_max_n=char_max_n, words=words,
    ).to_dict()
    if json_out:
        print_json(result)
    else:
        for line in summary_lines(result):
            typer.echo(line)


@app.command("sweep")
def sweep_cmd(
    grid_items: Optional[list[str]] = typer.Argument(None, metavar="[KEY=VALUES]...", help="More grid items, e.g. d=10,12."),
    dataset: str = typer.Option("digits", "--dataset", help="digits, fashion-mnist, langid, or a CSV/JSONL/NPZ/IDX path."),
    out: str = typer.Option(..., "--out", help="Output directory: sweep.csv, sweep.png, runs/<config>/model.onnx."),
    grid: Optional[list[str]] = typer.Option(
        None, "--grid", help="Grid 'T=8,10,60 d=10,12 fc=0,128,256-128' (default 'T=2,4,8,16,32 d=8 fc=0,64')."
    ),
    modes: str = typer.Option("joint,alone", "--modes", help="joint, alone (projection net trained alone), or both."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Epochs per run (default: the dataset's)."),
    seed: int = typer.Option(0, "--seed"),
    trainer: Optional[str] = typer.Option(None, "--trainer", help="mlp | cnn | lstm (default: mlp, lstm for text)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="binary | ternary projection."),
    density: Optional[float] = typer.Option(None, "--density", help="Ternary density rho in (0, 1]."),
    lambdas: Optional[str] = typer.Option(None, "--lambdas", help="l1,l2,l3 of the joint runs (default 1.0,0.1,1.0)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Distillation temperature of the joint runs."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="Where the dataset's files live."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """How many neural bits: train a (T, d, FC) grid joint and alone; write sweep.csv and sweep.png. Resumable."""
    from pnetc import api
    from pnetc.report import print_sweep

    items = [*(grid or []), *(grid_items or [])] or None
    result = api.sweep(dataset, out, grid=items, modes=modes, epochs=epochs, seed=seed, trainer=trainer,
                       kind=kind, density=density, lambdas=lambdas, temperature=temperature, data_dir=data_dir,
                       device=device, force=force).to_dict()
    if json_out:
        print_json(result)
    else:
        print_sweep(result)


# ---- compiler commands (compile, inspect, eval, verify) ----------------------

_CALIB_HELP = (".npz of sample inputs (array x) for the int8 ranges; a model without pnetc.calibration "
               "metadata (e.g. a plain torch or scikit-learn export) needs it for int8")
_PRECISION_HELP = "float32 | int8 | binary (1-bit first layer, int8 after)."
_PROJECTION_HELP = "hash (on the fly, no table) | table (projection stored in flash)."


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
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Compile MODEL to C99: <name>.h/.c, <name>_weights.c, runtime kernels, Makefile fragment, CMakeLists.txt."""
    from pnetc import api

    cm = api.compile(model, out, name=name, precision=precision, projection=projection, calib=calib,
                     board=board, package=package, force=force)
    if json_out:
        print_json(cm.to_dict())
    else:
        typer.echo(f"wrote {len(cm.sources)} sources to {cm.out_dir}: weights {cm.weight_bytes} B, "
                   f"arena {cm.arena_bytes} B, {cm.seconds:.2f} s")


@app.command("inspect")
def inspect_cmd(
    model: str = typer.Argument(..., help="The .onnx model."),
    precision: str = typer.Option("int8", "--precision", help=_PRECISION_HELP),
    projection: str = typer.Option("hash", "--projection", help=_PROJECTION_HELP),
    calib: Optional[str] = typer.Option(None, "--calib", help=".npz of sample inputs for int8 ranges."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Print the compiled graph: per-layer parameters and bytes, and the memory plan."""
    from rich.console import Console

    from pnetc.compiler import build_graph
    from pnetc.ir.summary import summary
    from pnetc.report import print_graph

    info = summary(build_graph(model, precision=precision, projection=projection, calib=calib))
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
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Accuracy of the numpy golden interpreter on the test split (no C, no torch)."""
    from pnetc.evaluate import evaluate_model
    from pnetc.report import print_eval

    result = evaluate_model(model, dataset=dataset, data=data, data_dir=data_dir, precision=precision,
                            calib=calib, limit=limit)
    if json_out:
        print_json(result)
    else:
        from rich.console import Console

        print_eval(result, Console())


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
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Build the generated C for the host 3 ways and compare every test sample with the golden interpreter."""
    from rich.console import Console

    from pnetc import api
    from pnetc.report import print_verify

    result = api.verify(model, dataset=dataset, data=data, data_dir=data_dir, precision=precision,
                        projection=projection, calib=calib, name=name, limit=limit, keep=keep, force=force)
    print_verify(result._report, Console(stderr=json_out))
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
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Build firmware for a board, report the model's flash/RAM, refuse (exit 2) if it does not fit."""
    from pnetc.report import build_command

    raise typer.Exit(build_command(model, board, out, precision, json_out, force, calib=calib))


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
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Run every test sample on the board (QEMU or native) and compare with the golden interpreter.

    Exit 0 when all match, 1 on a mismatch, 3 on a fault, 4 on a timeout."""
    from pnetc.report import run_command

    raise typer.Exit(run_command(model, board, dataset, data, limit, precision, timeout, out, json_out, force,
                                 calib=calib))


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
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
) -> None:
    """Exact instructions per inference and per stage (QEMU plugin), flash and RAM of the model."""
    from pnetc.report import bench_command

    raise typer.Exit(bench_command(model, board, n, dataset, data, precision, timeout, json_out, calib=calib))


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
