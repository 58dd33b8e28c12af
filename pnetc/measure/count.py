"""Exact instruction counts from the QEMU TCG plugin.

The plugin writes one line per pnet_bench_begin .. pnet_bench_end window:
"W <instructions> <stage>:<offset> ...". The firmware opens with two calibration windows: an
empty one (the cost of the markers themselves, subtracted from every inference) and one with
two stage marks (the cost of one mark, subtracted from every stage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pnetc.errors import PnetcError
from pnetc.targets.boards import Board
from pnetc.targets.toolchain import symbol_addresses

MAX_STAGES = 32


def write_symbols(board: Board, elf: Path, path: Path) -> None:
    syms = symbol_addresses(board, elf)
    try:
        lines = [f"begin {syms['pnet_bench_begin']:x}", f"end {syms['pnet_bench_end']:x}"]
    except KeyError as exc:
        raise PnetcError(f"{elf.name} has no benchmark markers ({exc.args[0]}); build it with bench=True") from exc
    for k in range(MAX_STAGES):
        name = f"pnet_bench_stage_{k}"
        if name in syms:
            lines.append(f"stage {k} {syms[name]:x}")
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Window:
    total: int
    marks: list[tuple[int, int]] = field(default_factory=list)  # (stage, offset from begin)


def parse_windows(text: str) -> list[Window]:
    out = []
    for line in text.splitlines():
        if not line.startswith("W "):
            continue
        parts = line.split()
        marks = [(int(a), int(b)) for a, b in (p.split(":") for p in parts[2:])]
        out.append(Window(int(parts[1]), marks))
    return out


@dataclass
class Counts:
    per_inference: np.ndarray            # [n] instructions, the markers' own instructions removed
    per_stage: np.ndarray                # [n, S] instructions of each stage, mark cost removed
    marker_overhead: int                 # instructions of an empty begin/end window
    mark_overhead: int                   # instructions of one stage mark

    def summary(self) -> dict:
        p = self.per_inference
        out = {"mean": float(p.mean()), "min": int(p.min()), "max": int(p.max())}
        if self.per_stage.size:
            out["stages"] = [{"stage": k, "mean": float(c.mean()), "min": int(c.min()), "max": int(c.max())}
                             for k, c in enumerate(self.per_stage.T)]
        return out


def counts_from_windows(windows: list[Window]) -> Counts:
    if len(windows) < 3:
        raise PnetcError(f"the instruction-count plugin saw {len(windows)} marker windows; expected the two "
                         f"calibration windows and one per sample")
    empty, with_marks, samples = windows[0], windows[1], windows[2:]
    if len(with_marks.marks) != 2:
        raise PnetcError("the calibration window did not see its two stage marks; the plugin cannot count stages")
    mark_cost = with_marks.marks[1][1] - with_marks.marks[0][1]
    # the markers' own instructions are removed: the empty window's, and one mark's per stage mark
    per_inference = np.array([w.total - empty.total - len(w.marks) * mark_cost for w in samples], dtype=np.int64)
    n_stages = max((len(w.marks) for w in samples), default=0) - 1
    per_stage = np.zeros((len(samples), max(n_stages, 0)), dtype=np.int64)
    for i, w in enumerate(samples):
        if len(w.marks) != n_stages + 1:
            raise PnetcError(f"sample {i} passed {len(w.marks)} stage marks, others {n_stages + 1}")
        offs = [off for _, off in w.marks]
        per_stage[i] = np.diff(offs) - mark_cost
    return Counts(per_inference, per_stage, empty.total, mark_cost)


def run_counted(board: Board, elf: Path, work_dir: Path, *, n_samples: int, timeout_s: float,
                progress=None):
    """Run a bench firmware under QEMU with the plugin; returns (Execution, windows)."""
    from pnetc.measure.plugin import build_plugin
    from pnetc.targets import qemu, sandbox
    from pnetc.targets.run import execute, runner_command

    plugin = build_plugin()
    syms = sandbox.fresh(work_dir / "bench_symbols.txt")
    counts = sandbox.fresh(work_dir / "bench_counts.txt")
    write_symbols(board, elf, syms)
    cmd = runner_command(board, elf, qemu.plugin_option(plugin, syms.resolve(), counts.resolve()))
    # the plugin runs inside QEMU: it reads the symbols and writes the counts in the work folder
    run = execute(cmd, work_dir, n_samples=n_samples, timeout_s=timeout_s, progress=progress,
                  readable=[elf, plugin])
    return run, parse_windows(sandbox.read_result(counts) or "")
