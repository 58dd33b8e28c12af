"""Progress on stderr, the global `--quiet` switch, result tables and the `--json` line.

Progress always goes to stderr, so `--json` keeps stdout machine-readable. Live bars are drawn
only when stderr is a terminal (or a notebook); `pnetc --quiet` and `progress=False` in the
Python API switch them off entirely. Every string that comes from the user or a model (paths,
labels, node names) is escaped before rich sees it: `[/x]` is text, not markup.
"""

from __future__ import annotations

import json
import math
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


def _strict(v):
    """v with NaN and infinities replaced by None (JSON has no such numbers) and numpy scalars as Python ones."""
    if isinstance(v, dict):
        return {k: _strict(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_strict(x) for x in v]
    if hasattr(v, "item") and getattr(v, "shape", None) == ():  # a numpy scalar
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def json_line(obj) -> str:
    """The one `--json` line: strict JSON (never NaN or Infinity), non-finite numbers as null."""
    return json.dumps(_strict(obj), allow_nan=False)


def print_json(obj) -> None:
    print(json_line(obj), flush=True)


class Tracker:
    """One progress line: `<label> · <stage>` with a sample counter. A disabled tracker does nothing."""

    def __init__(self, bar, label: str):
        self.rich = bar  # the rich Progress (None when disabled), for stages that take one
        self._label = label = _escape(label)
        self._task = bar.add_task(label, total=None) if bar is not None else None

    def stage(self, text: str) -> None:
        if self.rich is not None:
            self.rich.update(self._task, description=f"{self._label} · {_escape(text)}", completed=0, total=None)

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


def printable(text) -> str:
    """Control and format characters (ESC, CR, bidi overrides...) shown as escapes: a name from a
    model or a data file must not move the cursor, retitle or clear the user's terminal."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(printable(text))


