"""Progress on stderr, the global `--quiet` switch, and result tables.

Progress always goes to stderr, so `--json` keeps stdout machine-readable. Live bars are drawn
only when stderr is a terminal (or a notebook); `pnetc --quiet` and `progress=False` in the
Python API switch them off entirely.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Optional

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence (True) or allow (False) every progress display of this process."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


def _interactive() -> bool:
    if sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty():
        return True
    return "ipykernel" in sys.modules  # a notebook renders rich progress without a terminal


def wanted(progress: Optional[bool], *, terminal_only: bool = True) -> bool:
    """Whether to show progress: not quiet, not switched off, and (by default) someone is watching."""
    if _quiet or progress is False:
        return False
    return _interactive() or not terminal_only


class Tracker:
    """One progress line: `<label> · <stage>` with a sample counter. A disabled tracker does nothing."""

    def __init__(self, bar, label: str):
        self.rich = bar  # the rich Progress (None when disabled), for stages that take one
        self._label = label
        self._task = bar.add_task(label, total=None) if bar is not None else None

    def stage(self, text: str) -> None:
        if self.rich is not None:
            self.rich.update(self._task, description=f"{self._label} · {text}", completed=0, total=None)

    def samples(self, done: int, total: int) -> None:
        if self.rich is not None:
            self.rich.update(self._task, completed=done, total=total)

    def sample_callback(self, stage: str):
        """A callback(done, total) for run/bench that also names the stage on its first call."""
        if self.rich is None:
            return None
        started = []

        def tick(done: int, total: int) -> None:
            if not started:
                started.append(True)
                self.stage(stage)
            self.samples(done, total)

        return tick


@contextmanager
def tracker(label: str, enabled: bool) -> Iterator[Tracker]:
    """A transient rich progress line on stderr (or a no-op tracker when disabled)."""
    if not enabled:
        yield Tracker(None, label)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    with bar:
        yield Tracker(bar, label)


def print_table(title: str, rows: list[tuple[str, str]], *, stderr: bool = False) -> None:
    """A two-column (what, value) rich table: the human form of an API result."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in rows:
        table.add_row(key, value)
    Console(stderr=stderr, width=None if sys.stdout.isatty() else 120).print(table)


# ---- result tables (the human form of build / run / bench results) --------------------------


def _bytes(n) -> str:
    return "-" if n is None else f"{n:,} bytes"


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def print_build(r) -> None:
    """A pnetc.api.BuildResult."""
    x = r.extra
    files = ", ".join(str(p) for p in (r.elf, r.bin, r.map) if p)
    stack = _bytes(r.stack_high_water_bytes) if r.stack_high_water_bytes is not None else \
        "not measured (the board cannot run here)"
    rows = [("firmware", files),
            ("model flash", f"{r.flash_bytes:,} bytes = code {r.flash_code_bytes:,} + weights {r.flash_weight_bytes:,}"),
            ("model RAM", f"{r.ram_bytes:,} bytes static (arena {r.ram_arena_bytes:,}); stack high-water {stack}")]
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
    what = "int8 scores" if r.precision != "float32" else "float scores (rel 1e-5)"
    bad = f"[green]0[/]" if r.ok else f"[red]{r.mismatches}[/]"
    rows = [("samples", f"{r.samples:,} of {r.dataset}"),
            ("mismatches", f"{bad} (bits, {what} and predictions vs the golden interpreter)")]
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

    table = Table(title=f"bench: {r.board} ({r.core}), {r.precision}, {r.samples} samples", title_justify="left",
                  caption="exact instruction counts (QEMU TCG plugin); emulators do not give time",
                  caption_justify="left")
    for col in ("stage", "name", "mean", "min", "max"):
        table.add_column(col, justify="left" if col in ("stage", "name") else "right")
    for st in r.stages:
        table.add_row(str(st["stage"]), st["name"], f"{st['mean']:,.1f}", f"{st['min']:,}", f"{st['max']:,}")
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
