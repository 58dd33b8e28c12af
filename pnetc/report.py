"""What the command line prints: every table and summary of the CLI lives here.

The stages and the API return dataclasses and dicts; only the CLI (pnetc/cli.py) calls these.
Every string that came from a model or a user goes through rich's markup escape (or a Text) and
`printable`, which shows control characters as escapes.

Exit codes of the `boards`, `build`, `run` and `bench` commands: 0 success, 1 mismatch against the reference, 2 user error (bad option, missing
tool, model does not fit), 3 the firmware faulted or exited badly, 4 the firmware timed out."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from pnetc.demo import _shown
from pnetc.progress import _escape, json_line, printable


EXIT_MISMATCH = 1
EXIT_FAULT = 3
EXIT_TIMEOUT = 4


def _say(line: str = "") -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)


def _kib(n: int | None) -> str:
    if not n:
        return "-"
    return f"{n // 1024:,} KB" if n % 1024 == 0 else f"{n:,} B"


@contextmanager
def progress_bar(label: str, enabled: bool = True):
    """A rich progress bar on stderr (when it is a terminal); yields a callback(done, total) or None."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# ---- boards ---------------------------------------------------------------------------------


def boards_command(json_out: bool) -> int:
    from pnetc.targets.boards import list_boards

    rows = []
    for b in list_boards():
        missing = b.missing_tools()
        if b.runner == "none":
            status = "build only" if b.can_build else f"no: {', '.join(missing)} missing"
        else:
            status = "yes" if not missing else f"no: {', '.join(missing)} missing"
        rows.append(dict(board=b.name, core=b.core, fpu=b.fpu, kind=b.kind,
                         flash_bytes=b.flash_size or None, ram_bytes=b.ram_size or None,
                         flash_origin=hex(b.flash_origin) if b.bare_metal else None,
                         ram_origin=hex(b.ram_origin) if b.bare_metal else None,
                         runner=b.runner, machine=b.machine or b.runner_command or None,
                         can_build=b.can_build, can_run=b.can_run, status=status, description=b.description))
    if json_out:
        _say(json_line({"boards": rows}))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for col in ("board", "core", "FPU", "flash", "RAM", "runner", "runs here"):
        table.add_column(col)
    for r in rows:
        runner = r["runner"] + (f" ({r['machine']})" if r["machine"] else "")
        table.add_row(r["board"], r["core"], r["fpu"], _kib(r["flash_bytes"]), _kib(r["ram_bytes"]), runner,
                      r["status"])
    Console(width=None if sys.stdout.isatty() else 140).print(table)  # pipes get the full table
    return 0


# ---- build ----------------------------------------------------------------------------------


def build_command(model: str, board: str, out: str, precision: str, json_out: bool, force: bool = False,
                  calib: str | None = None, output: str | None = None) -> int:
    from pnetc import api

    built = api.build(model, board, out, precision=precision, force=force, calib=calib, output=output)  # a refusal (does not fit) is a user error: cli.main
    if json_out:
        _say(json_line(built.to_dict()))
        return 0

    print_build(built)
    return 0


# ---- run ------------------------------------------------------------------------------------


def _device_failure(exc, board: str, json_out: bool, extra: dict) -> int:
    code = EXIT_TIMEOUT if exc.kind == "timeout" else EXIT_FAULT
    if json_out:
        _say(json_line({"board": board, **extra, "status": exc.kind, "error": str(exc)}))
    _err(f"pnetc: error: {exc}")
    return code


def run_command(model: str, board: str, dataset: str | None, data: str | None, limit: int | None, precision: str,
                timeout: float | None, out: str | None, json_out: bool, force: bool = False,
                calib: str | None = None, output: str | None = None) -> int:
    from pnetc import api

    return _device_command(lambda: api.run(model, board, dataset=dataset, data=data, limit=limit, precision=precision,
                                           out_dir=out, timeout=timeout, force=force, calib=calib, output=output),
                           board, precision, json_out, print_run, "samples")


def _device_command(call, board: str, precision: str, json_out: bool, show, what: str) -> int:
    """The tail `run` and `bench` share: a fault or timeout is its exit code, the result is printed
    (or its JSON line), and a mismatch against the reference is one error line and exit 1."""
    from pnetc.targets.run import DeviceError

    try:
        result = call()
    except DeviceError as exc:
        return _device_failure(exc, board, json_out, {"precision": precision})
    d = result.to_dict()
    if json_out:
        _say(json_line(d))
    else:
        show(result)
    if result.mismatches:
        kinds = d.get("mismatch_kinds")
        detail = f" ({', '.join(f'{k} {v}' for k, v in kinds.items() if v)})" if kinds else ""
        _err(f"pnetc: error: mismatch: {result.mismatches} of {result.samples} {what} differ from the "
             f"reference{detail}")
        return EXIT_MISMATCH
    return 0


# ---- bench ----------------------------------------------------------------------------------


def bench_command(model: str, board: str, n: int, dataset: str | None, data: str | None, precision: str,
                  timeout: float | None, json_out: bool, calib: str | None = None, output: str | None = None) -> int:
    from pnetc import api

    return _device_command(lambda: api.bench(model, board, n=n, dataset=dataset, data=data, precision=precision,
                                             timeout=timeout, calib=calib, output=output),
                           board, precision, json_out, print_bench, "benchmark samples")


def _bytes(n) -> str:
    return "-" if n is None else f"{n:,} bytes"


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def _acc(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.4f}"


def print_sweep(result: dict) -> None:
    """The sweep as a table on stdout, cheapest first within each mode."""
    from rich.console import Console
    from rich.table import Table

    from pnetc.training.sweep.grid import TRAINER_MODE, cell

    table = Table(title=_escape(f"{result['csv']}  ({result['trained']} trained, {result['skipped']} already done)"))
    for col in ("mode", "T", "d", "fc", "bits", "weight B", "accuracy", "int8 est."):
        table.add_column(col, justify="left" if col in ("mode", "fc") else "right")
    order = {TRAINER_MODE: 0, "joint": 1, "alone": 2}
    for r in sorted(result["rows"], key=lambda r: (order.get(r["mode"], 3), r["bits"] or 0, r["weight_bytes"] or 0)):
        table.add_row(r["mode"], cell(r["T"]), cell(r["d"]), cell(r["fc"]), cell(r["bits"]), cell(r["weight_bytes"]),
                      "" if r["accuracy"] is None else f"{r['accuracy']:.4f}",
                      "" if r["accuracy_int8_sim"] is None else f"{r['accuracy_int8_sim']:.4f}")
    Console().print(table)
    Console().print(f"plot: {_escape(str(result['png']))}")


def print_table(title: str, rows: list[tuple[str, object]], *, stderr: bool = False) -> None:
    """A two-column (what, value) rich table: the human form of an API result. Strings are shown
    as they are (never read as markup); pass a rich Text for a styled value."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(printable(title)), show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in rows:
        table.add_row(Text(printable(key)), value if isinstance(value, Text) else Text(printable(value)))
    Console(stderr=stderr, width=None if sys.stdout.isatty() else 120).print(table)


def print_build(r) -> None:
    """A pnetc.api.BuildResult."""
    x = r.extra
    files = ", ".join(str(p) for p in (r.elf, r.bin, r.map) if p)
    stack = _bytes(r.stack_high_water_bytes) if r.stack_high_water_bytes is not None else \
        "not measured (the board cannot run here)"
    rows = [("firmware", files),
            ("model flash", f"{r.flash_bytes:,} bytes = code {r.flash_code_bytes:,} + weights {r.flash_weight_bytes:,}"),
            ("model RAM", f"{r.ram_bytes:,} bytes = static {r.ram_static_bytes:,} (arena {r.ram_arena_bytes:,}) + "
                          f"stack high-water {stack}")]
    if x.get("board_flash_bytes"):
        rows.append(("image", f"flash {r.image_flash_bytes:,} of {x['board_flash_bytes']:,} bytes, RAM "
                              f"{r.image_ram_bytes:,} of {x['board_ram_bytes']:,} bytes (including the "
                              f"{x['stack_reserved_bytes']:,}-byte stack reserve): fits"))
    else:
        image = x.get("image_sections", {})
        rows.append(("image", f"{image.get('flash', 0):,} bytes of code+data, {image.get('ram', 0):,} bytes of RAM "
                              f"(no fixed limit on {r.board})"))
    print_table(f"build: {r.board} ({r.core}), {r.precision}", rows)


def print_run(r) -> None:
    """A pnetc.api.RunResult."""
    from rich.text import Text

    what = "int8 scores" if r.precision != "float32" else "float scores (rel 1e-5)"
    mismatches = Text.assemble((str(r.mismatches), "green" if r.ok else "red"),
                               f" (bits, {what} and predictions vs the golden interpreter)")
    rows = [("samples", f"{r.samples:,} of {r.dataset}"), ("mismatches", mismatches)]
    for m in r.first_mismatches:
        rows.append((f"  sample {m['index']}", f"{', '.join(m['what'])} differ (device {m['device_prediction']}, "
                                              f"reference {m['reference_prediction']})"))
    if r.accuracy_device is not None:
        rows.append(("accuracy", f"device {_pct(r.accuracy_device)}, reference {_pct(r.accuracy_reference)}"))
    rows.append(("stack high-water", _bytes(r.stack_high_water_bytes)))
    rows.append(("host wall time", f"{r.host_wall_seconds:.2f} s"))
    print_table(f"run: {r.board}, {r.precision}", rows)


def _per_byte_line(extra: dict) -> str:
    """A text model's cost per input byte: the mean ratio and the least-squares line."""
    per_byte = extra["instructions_per_byte"]
    line = f"{per_byte:,.1f} instructions" if per_byte is not None else "n/a (empty texts)"
    line += f" (mean {extra['input_bytes_mean']:,.1f} bytes per text)"
    if extra.get("instructions_fixed") is not None:
        line += (f"; least-squares fit: {extra['instructions_fixed']:,.0f} + "
                 f"{extra['instructions_per_byte_marginal']:,.1f} x bytes")
    return line


def print_bench(r) -> None:
    """A pnetc.api.BenchResult: instructions per inference and per stage, flash and RAM."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=_escape(f"bench: {r.board} ({r.core}), {r.precision}, {r.samples} samples"),
                  title_justify="left",
                  caption="exact instruction counts (QEMU TCG plugin); emulators do not give time",
                  caption_justify="left")
    for col in ("stage", "name", "mean", "min", "max"):
        table.add_column(col, justify="left" if col in ("stage", "name") else "right")
    for st in r.stages:
        table.add_row(str(st["stage"]), _escape(st["name"]), f"{st['mean']:,.1f}", f"{st['min']:,}", f"{st['max']:,}")
    table.add_row("all", "per inference", f"{r.instructions_per_inference:,.1f}", f"{r.instructions_min:,}",
                  f"{r.instructions_max:,}", style="bold")
    Console(width=None if sys.stdout.isatty() else 120).print(table)
    rows = [("flash", f"{r.flash_bytes:,} bytes = code {r.flash_code_bytes:,} + weights {r.flash_weight_bytes:,}"),
            ("RAM", f"{r.ram_bytes:,} bytes = static {r.ram_static_bytes:,} (arena {r.ram_arena_bytes:,}) + stack "
                    f"high-water {r.stack_high_water_bytes or 0:,}")]
    if r.extra.get("input_bytes_mean") is not None:
        rows.append(("per input byte", _per_byte_line(r.extra)))
    ce = r.extra.get("cycles_estimate")
    if ce:
        rows.append(("cycles (estimate)", f"~{ce['value']:,}: instructions x assumed CPI {ce['cpi_assumed']}, "
                                          f"not measured"))
    print_table("", rows)


def print_demo(result, *, stderr: bool = False) -> None:
    """The final summary as a table."""
    from rich.text import Text

    def pct(v: Optional[float]) -> str:
        return "-" if v is None else f"{100 * v:.2f}%"

    ok = result.mismatches == 0
    rows = [
        ("board", f"{result.board} ({result.core}, "
                  f"{'QEMU' if result.runner.startswith('qemu') else 'native'})"),
        ("test samples", f"{result.samples:,} digits, run on the board"),
        ("mismatches", Text.assemble(("0", "green"), " (bits, int8 scores, predictions equal the reference)") if ok
                       else Text(str(result.mismatches), "red")),
        ("accuracy", f"float32 {pct(result.accuracy_float)} · int8 Python reference {pct(result.accuracy_reference)}"
                     f" · int8 on device {pct(result.accuracy_device)}"),
        ("flash", f"{result.flash_bytes:,} bytes (code {result.flash_code_bytes:,} + weights "
                  f"{result.flash_weight_bytes:,})"),
        ("RAM", f"{result.ram_bytes:,} bytes (static {result.ram_static_bytes:,} + stack high-water "
                f"{result.stack_high_water_bytes or 0:,})"),
        ("instructions / inference", f"{result.instructions_per_inference:,.0f} (exact count, mean of "
                                     f"{result.bench_samples} samples)"),
        ("wall time", " · ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())),
    ]
    rows += [(f"wrote {k}", _shown(v)) for k, v in result.paths.items()]
    print_table("pnetc demo: digits -> int8 C99 -> " + result.board, rows, stderr=stderr)


def input_phrase(kind: str, size: int) -> str:
    """What a model reads: text has no fixed size (not "text input of 0")."""
    return "text input (UTF-8 bytes, any length)" if kind == "text" else f"{kind} input of {size} values"


def print_graph(info: dict, console) -> None:
    """Names and paths come from the model and the user: escaped, so rich never reads them as markup."""
    from rich.table import Table

    console.print(f"[bold]{_escape(info['model'])}[/] ({info['task']}, {input_phrase(info['input'], info['input_size'])}, "
                  f"{info['num_classes']} classes) precision={info['precision']}"
                  + (f" projection={info['projection']}" if info["num_bits"] else ""))
    t = Table(title="layers")
    for col in ("#", "name", "op", "detail", "params", "bytes", "stored"):
        t.add_column(col, justify="right" if col in ("#", "params", "bytes") else "left")
    for i, l in enumerate(info["layers"]):
        t.add_row(str(i), _escape(l["name"]), l["op"], _escape(l["detail"]), str(l["params"]), str(l["bytes"]),
                  l["stored"])
    console.print(t)
    m = Table(title=f"memory plan: arena {info['arena_bytes']} bytes")
    for col in ("buffer", "bytes", "offset", "live steps"):
        m.add_column(col, justify="left" if col == "buffer" else "right")
    for b in info["buffers"]:
        m.add_row(_escape(b["name"]), str(b["bytes"]), str(b["offset"]), f"{b['steps'][0]}..{b['steps'][1]}")
    console.print(m)
    if info["output_activation_removed"]:
        console.print(f"final {info['output_activation_removed']} removed: scores are logits (same argmax)")


def print_verify(report, console) -> None:
    from rich.table import Table

    projection = f", projection {report.projection}" if report.num_bits else ""  # an MLP has none
    t = Table(title=f"verify {_escape(Path(report.model).name)}: {report.precision}{projection}, "
                    f"{report.samples} samples")
    for col in ("build", "mismatch", "bits", "scores", "preds", "errors", "acc C", "s"):
        t.add_column(col, justify="left" if col == "build" else "right")
    for b in report.builds:
        style = "green" if b.mismatches == 0 else "red"
        t.add_row(b.build, f"[{style}]{b.mismatches}[/]", str(b.bit_mismatches), str(b.score_mismatches),
                  str(b.prediction_mismatches), str(b.errors), f"{b.accuracy:.4f}", f"{b.seconds:.1f}")
    console.print(t)
    console.print(
        f"accuracy: reference {report.accuracy_reference:.4f}, C {_acc(report.accuracy_c)}, float32 "
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

    console.print(f"{_escape(Path(result['model']).name)} on {_escape(result['dataset'])} "
                  f"({result['precision']} reference): "
                  f"accuracy {result['accuracy']:.4f} over {result['samples']} test samples")
    if result.get("accuracy_float") is not None:
        console.print(f"float32 accuracy {result['accuracy_float']:.4f} (change from quantisation "
                      f"{result['accuracy'] - result['accuracy_float']:+.4f})")
    if result.get("macro_f1") is not None:
        console.print(f"macro F1 {result['macro_f1']:.4f}")
    t = Table(title="per class")
    for col in ("class", "samples", "precision", "recall", "F1"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for label, v in result["per_class"].items():
        t.add_row(_escape(printable(label)), str(v["samples"]), _acc(v["precision"]), _acc(v["recall"]),
                  _acc(v["f1"]))
    console.print(t)
    labels = result["labels"]
    if len(labels) <= 20:
        m = Table(title="confusion matrix (rows: true class, columns: predicted)")
        m.add_column("true \\ predicted")
        for label in labels:
            m.add_column(_escape(printable(label)), justify="right")
        for label, row in zip(labels, result["confusion"]):
            m.add_row(_escape(printable(label)), *(str(v) if v else "." for v in row))
        console.print(m)
    else:
        console.print(f"confusion matrix: {len(labels)} classes, in --json (confusion) or --plot FILE")
    if result.get("plot"):
        console.print(f"plot: {_escape(printable(str(result['plot'])))}")


def print_predict(result: dict) -> None:
    """One line per sample: its index and the predicted label."""
    for row in result["predictions"]:
        _say(f"{row['index']}\t{printable(str(row['label']))}")


def summary_lines(result: dict) -> list[str]:
    """A short human summary of a training result (the CLI prints it without --json)."""

    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}%"

    if result.get("budget_lines"):  # a budget search prints its candidates and its choice
        return [*result["budget_lines"], f"model                {result['model']}"]
    lines = [result["defaults"]] if result.get("defaults") else []  # sizes chosen from the input's shape
    lines += [
        f"dataset {result['dataset']}  trainer {result['trainer']}  mode {result['mode']}  ({result['seconds']} s)",
        f"trainer accuracy     {pct(result['trainer_accuracy'])}  ({result['trainer_weight_bytes']} weight bytes)",
        f"projection accuracy  {pct(result['projection_accuracy'])}  ({result['projection_bits']} bits, "
        f"{result['weight_bytes']} weight bytes)",
    ]
    if result.get("projection_accuracy_int8_sim") is not None:
        lines.append(f"  int8 estimate      {pct(result['projection_accuracy_int8_sim'])}")
    lines.append(f"model                {result['model']}")
    return lines
