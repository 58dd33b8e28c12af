"""Output of the `boards`, `build`, `run` and `bench` commands (pnetc/cli.py parses, this prints).

Exit codes: 0 success, 1 mismatch against the reference, 2 user error (bad option, missing
tool, model does not fit), 3 the firmware faulted or exited badly, 4 the firmware timed out."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

EXIT_MISMATCH = 1
EXIT_FAULT = 3
EXIT_TIMEOUT = 4


def _say(line: str = "") -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
        _say(json.dumps({"boards": rows}))
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


def build_command(model: str, board: str, out: str, precision: str, json_out: bool) -> int:
    from pnetc import api
    from pnetc.targets.build import ModelDoesNotFit

    try:
        built = api.build(model, board, out, precision=precision)
    except ModelDoesNotFit as exc:
        if json_out:
            _say(json.dumps({"board": board, "fits": False, "error": str(exc)}))
        raise
    if json_out:
        _say(json.dumps(built.to_dict()))
        return 0
    result = built._build  # the stage's objects, for the detailed text below
    s = result.size
    fw = result.firmware
    extras = ", ".join(str(p.name) for p in (fw.bin, fw.map) if p)
    _say(f"built {fw.elf}" + (f" (+ {extras})" if extras else "") + f" for {result.board.name} ({result.board.core})")
    _say(f"model flash: {s.model_flash:,} bytes = code {s.model_code:,} + weights {s.weight_bytes:,}")
    stack = f"{s.stack_high_water:,} bytes" if s.stack_high_water is not None else "not measured (board cannot run here)"
    _say(f"model RAM:   {s.model_ram:,} bytes static (arena {s.arena_bytes:,}); stack high-water {stack}")
    if s.flash_capacity:
        _say(f"image: flash {s.flash_needed:,} of {s.flash_capacity:,} bytes, RAM {s.ram_needed:,} of "
             f"{s.ram_capacity:,} bytes (including the {s.stack_reserved:,}-byte stack reserve): fits")
    else:
        _say(f"image: {s.image.flash:,} bytes of code+data, {s.image.ram:,} bytes of RAM (no fixed limit on {s.board})")
    return 0


# ---- run ------------------------------------------------------------------------------------


def _device_failure(exc, board: str, json_out: bool, extra: dict) -> int:
    code = EXIT_TIMEOUT if exc.kind == "timeout" else EXIT_FAULT
    if json_out:
        _say(json.dumps({"board": board, **extra, "status": exc.kind, "error": str(exc)}))
    _err(f"pnetc: error: {exc}")
    return code


def run_command(model: str, board: str, dataset: str | None, data: str | None, limit: int | None, precision: str,
                timeout: float | None, out: str | None, json_out: bool) -> int:
    from pnetc import api
    from pnetc.targets.run import DeviceError

    try:
        report = api.run(model, board, dataset=dataset, data=data, limit=limit, precision=precision,
                         out_dir=out, timeout=timeout)
    except DeviceError as exc:
        return _device_failure(exc, board, json_out, {"precision": precision})
    d = report.to_dict()
    if json_out:
        _say(json.dumps(d))
    else:
        n_bad = report.mismatches
        what = "int8 scores" if precision != "float32" else "float scores (rel 1e-5)"
        _say(f"{report.board}: {report.samples} samples of {report.dataset}, {precision}: {n_bad} mismatches "
             f"(bits, {what} and predictions vs the golden interpreter)")
        for m in report.first_mismatches:
            _say(f"  sample {m['index']}: {', '.join(m['what'])} differ (device {m['device_prediction']}, "
                 f"reference {m['reference_prediction']})")
        if report.accuracy_device is not None:
            _say(f"accuracy: device {report.accuracy_device:.4f}, reference {report.accuracy_reference:.4f}")
        _say(f"stack high-water: {report.stack_high_water_bytes:,} bytes")
    if report.mismatches:
        kinds = ", ".join(f"{k} {v}" for k, v in d["mismatch_kinds"].items() if v)
        _err(f"pnetc: error: mismatch: {report.mismatches} of {report.samples} samples differ from the "
             f"reference ({kinds})")
        return EXIT_MISMATCH
    return 0


# ---- bench ----------------------------------------------------------------------------------


def bench_command(model: str, board: str, n: int, dataset: str | None, data: str | None, precision: str,
                  timeout: float | None, json_out: bool) -> int:
    from pnetc import api
    from pnetc.targets.run import DeviceError

    try:
        report = api.bench(model, board, n=n, dataset=dataset, data=data, precision=precision, timeout=timeout)
    except DeviceError as exc:
        return _device_failure(exc, board, json_out, {"precision": precision})
    d = report.to_dict()
    if json_out:
        _say(json.dumps(d))
    else:
        _say(f"{d['board']} ({d['core']}), {precision}, {d['samples']} samples: exact instruction counts "
             f"(QEMU TCG plugin; emulators do not give time)")
        _say(f"instructions per inference: mean {d['instructions_per_inference']:,.1f}, "
             f"min {d['instructions_min']:,}, max {d['instructions_max']:,}")
        for st in d["stages"]:
            _say(f"  stage {st['stage']} {st['name']:<22} mean {st['mean']:>12,.1f}  min {st['min']:>10,}  "
                 f"max {st['max']:>10,}")
        _say(f"flash: {d['flash_bytes']:,} bytes = code {d['flash_code_bytes']:,} + weights {d['flash_weight_bytes']:,}")
        hw = d["stack_high_water_bytes"]
        _say(f"RAM:   {d['ram_bytes']:,} bytes = static {d['ram_static_bytes']:,} (arena {d['ram_arena_bytes']:,}) "
             f"+ stack high-water {hw if hw is not None else 0:,}")
        if "cycles_estimate" in d:
            ce = d["cycles_estimate"]
            _say(f"cycles (estimate, not measured: instructions x assumed CPI {ce['cpi_assumed']}): ~{ce['value']:,}")
    if report.mismatches:
        _err(f"pnetc: error: mismatch: {report.mismatches} of {report.samples} benchmark samples differ from the "
             f"reference")
        return EXIT_MISMATCH
    return 0
