"""Output of the `boards`, `build`, `run` and `bench` commands (pnetc/cli.py parses, this prints).

Exit codes: 0 success, 1 mismatch against the reference, 2 user error (bad option, missing
tool, model does not fit), 3 the firmware faulted or exited badly, 4 the firmware timed out."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from pnetc.progress import json_line

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


def build_command(model: str, board: str, out: str, precision: str, json_out: bool, force: bool = False) -> int:
    from pnetc import api

    built = api.build(model, board, out, precision=precision, force=force)  # a refusal (does not fit) is a user error: cli.main
    if json_out:
        _say(json_line(built.to_dict()))
        return 0
    from pnetc.progress import print_build

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
                timeout: float | None, out: str | None, json_out: bool, force: bool = False) -> int:
    from pnetc import api
    from pnetc.targets.run import DeviceError

    try:
        report = api.run(model, board, dataset=dataset, data=data, limit=limit, precision=precision,
                         out_dir=out, timeout=timeout, force=force)
    except DeviceError as exc:
        return _device_failure(exc, board, json_out, {"precision": precision})
    d = report.to_dict()
    if json_out:
        _say(json_line(d))
    else:
        from pnetc.progress import print_run

        print_run(report)
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
        _say(json_line(d))
    else:
        from pnetc.progress import print_bench

        print_bench(report)
    if report.mismatches:
        _err(f"pnetc: error: mismatch: {report.mismatches} of {report.samples} benchmark samples differ from the "
             f"reference")
        return EXIT_MISMATCH
    return 0
