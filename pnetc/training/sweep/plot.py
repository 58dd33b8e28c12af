"""The sweep's picture: accuracy vs bits and vs weight bytes, each mode's Pareto front (matplotlib)."""

from __future__ import annotations

from pathlib import Path

from pnetc.training.sweep.grid import TRAINER_MODE

_COLORS = {"joint": "tab:blue", "alone": "tab:orange"}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The Pareto front: points no cheaper point beats (best accuracy for at most this cost)."""
    best, front = float("-inf"), []
    for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
        if y > best:
            front.append((x, y))
            best = y
    return front


def _plain(x, _pos=None) -> str:
    return f"{x:g}"


def _human_bytes(x, _pos=None) -> str:
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if x >= size:
            return f"{x / size:g} {unit}" if x % size == 0 else f"{x / size:.3g} {unit}"
    return f"{x:g} B"


def plot(rows: list[dict], path: Path, title: str) -> None:
    """Two log-x panels, accuracy vs total bits and vs weight bytes: every run as a marker
    (colour = mode, shape = FC layers), each mode's Pareto front as a line, and the trainer's
    accuracy as a dashed reference line (its weight bytes as a star on the right panel)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullFormatter

    runs = [r for r in rows if r["mode"] in _COLORS and r["accuracy"] is not None]
    ref = next((r for r in rows if r["mode"] == TRAINER_MODE and r["accuracy"] is not None), None)
    fcs = list(dict.fromkeys(sorted((r["fc"] for r in runs), key=lambda f: [int(w) for w in f.split("-")])))
    marker = {fc: _MARKERS[i % len(_MARKERS)] for i, fc in enumerate(fcs)}

    fig = Figure(figsize=(12, 5), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, xkey, xlabel in ((axes[0], "bits", "total projection bits  T·d"),
                             (axes[1], "weight_bytes", "projection net weight bytes (float32)")):
        for mode, color in _COLORS.items():
            pts = [r for r in runs if r["mode"] == mode]
            if not pts:
                continue
            front = _front([(r[xkey], r["accuracy"]) for r in pts])
            ax.plot([p[0] for p in front], [p[1] for p in front], color=color, lw=1.5, alpha=0.8, zorder=2)
            for fc in fcs:
                sel = [r for r in pts if r["fc"] == fc]
                if sel:  # joint filled, alone hollow: both stay visible where they coincide
                    face = color if mode == "joint" else "none"
                    ax.scatter([r[xkey] for r in sel], [r["accuracy"] for r in sel], facecolors=face,
                               edgecolors=color, marker=marker[fc], s=40, linewidths=1.3, zorder=3)
        if ref is not None:
            ax.axhline(ref["accuracy"], color="0.25", ls="--", lw=1, zorder=1)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(FuncFormatter(_human_bytes if xkey == "weight_bytes" else _plain))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="major", alpha=0.3)
        ax.grid(True, which="minor", alpha=0.1)
    if ref is not None and ref.get("weight_bytes"):
        axes[1].scatter([ref["weight_bytes"]], [ref["accuracy"]], marker="*", s=160, color="0.25", zorder=4)
    bit_counts = sorted({r["bits"] for r in runs})
    if 0 < len(bit_counts) <= 12:  # label the bit counts actually swept
        axes[0].set_xticks(bit_counts)
    axes[0].set_ylabel("test accuracy")
    axes[0].set_title("accuracy vs bits", fontsize=10)
    axes[1].set_title("accuracy vs model size", fontsize=10)

    handles = [Line2D([], [], color=c, lw=1.5, marker="o", markerfacecolor=c if m == "joint" else "none",
                      label=f"{m}  (line: Pareto front)")
               for m, c in _COLORS.items() if any(r["mode"] == m for r in runs)]
    handles += [Line2D([], [], color="0.4", marker=marker[fc], ls="", label=f"FC {fc.replace('-', '+')}"
                       if fc != "0" else "no FC (linear)") for fc in fcs]
    if ref is not None:
        handles.append(Line2D([], [], color="0.25", ls="--", marker="*", markersize=9,
                              label=f"trainer {ref['trainer']} alone: {ref['accuracy']:.3f} "
                                    f"({_human_bytes(ref['weight_bytes'])})"))
    axes[0].legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, format="png")  # path may be a temporary name without .png
