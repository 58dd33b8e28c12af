"""How many neural bits: train a grid of (T, d, FC) projection nets, joint and alone.

`pnetc sweep` calls the training stage in-process (`loop.train`) once per grid point and
mode, plus one trainer-only run whose accuracy is the reference line. Each finished run
appends one row to DIR/sweep.csv at once, so an interrupted sweep resumes where it stopped:
rows already in the CSV are skipped, and a run cut off mid-way continues from its own
checkpoint. DIR/sweep.json pins the options shared by every run (dataset, trainer, kind,
density, epochs, seed); resuming with different ones is refused rather than mixing them.

Grid syntax (docs/sweep.md): `T=8,10,60 d=10,12 fc=0,128,256-128`. `fc=0` is no hidden
layer (a linear model on the bits), `256-128` two hidden layers. A key left out takes the
dataset's default. Parsing needs no torch, so a bad grid fails at once.
"""

from __future__ import annotations

import csv
import itertools
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pnetc.errors import PnetcError

GRID_KEYS = ("T", "d", "fc")
MODES = {"joint": "joint", "alone": "projection-only"}  # sweep name -> TrainConfig.mode
TRAINER_MODE = "trainer"  # the reference row
DEFAULT_GRID = "T=2,4,8,16,32 d=8 fc=0,64"
CSV_NAME, PNG_NAME, SETTINGS_NAME = "sweep.csv", "sweep.png", "sweep.json"
COLUMNS = (
    "dataset", "trainer", "kind", "density", "epochs", "seed", "lambdas", "temperature",  # shared (sweep.json)
    "T", "d", "fc", "mode",  # the configuration: the resume key
    "bits", "weight_bytes", "accuracy", "accuracy_int8_sim", "trainer_accuracy", "trainer_weight_bytes",
    "seconds", "model",
)
_EXAMPLE = "e.g. --grid 'T=8,10,60 d=10,12 fc=0,128,256'"


@dataclass(frozen=True)
class Point:
    """One grid configuration in one mode. T/d/fc are None for the trainer-only row."""

    T: int | None
    d: int | None
    fc: tuple[int, ...] | None
    mode: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (_str(self.T), _str(self.d), "" if self.fc is None else fc_text(self.fc), self.mode)

    @property
    def label(self) -> str:
        if self.mode == TRAINER_MODE:
            return "trainer alone (reference)"
        return f"T={self.T} d={self.d} fc={fc_text(self.fc)} {self.mode}"

    @property
    def dirname(self) -> str:
        if self.mode == TRAINER_MODE:
            return TRAINER_MODE
        return f"{self.mode}-T{self.T}-d{self.d}-fc{fc_text(self.fc)}"


def _str(v) -> str:
    return "" if v is None else str(v)


def fc_text(fc) -> str:
    return "-".join(str(w) for w in fc) if fc else "0"


# ---------------------------------------------------------------------------
# Parsing (no torch)
# ---------------------------------------------------------------------------


def _ints(key: str, text: str, item: str, *, allow_zero: bool = False) -> list[int]:
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            v = int(part)
        except ValueError:
            raise PnetcError(f"grid {item!r}: {part!r} is not an integer; {_EXAMPLE}") from None
        if v < 0 or (v == 0 and not allow_zero):
            raise PnetcError(f"grid {item!r}: {key} values must be positive, got {v}")
        values.append(v)
    return values


def parse_grid(items: list[str] | str | None) -> dict[str, list]:
    """'T=8,10 d=12 fc=0,128,256-128' (or the same as a list of items) -> {"T": [8, 10], "d": [12],
    "fc": [(), (128,), (256, 128)]}. Keys left out map to [None] (the dataset default)."""
    if items is None:
        items = [DEFAULT_GRID]
    if isinstance(items, str):
        items = [items]
    tokens = [tok for item in items for tok in str(item).split()]
    grid: dict[str, list] = {}
    for tok in tokens:
        key, sep, text = tok.partition("=")
        if not sep or not key:
            raise PnetcError(f"grid item {tok!r} is not KEY=VALUES; {_EXAMPLE}")
        if key not in GRID_KEYS:
            raise PnetcError(f"unknown grid key {key!r} in {tok!r}; the keys are T, d and fc ({_EXAMPLE})")
        if key in grid:
            raise PnetcError(f"grid key {key!r} is given twice; list all its values once, like {key}=8,12")
        if not text.strip() or any(not p.strip() for p in text.split(",")):
            raise PnetcError(f"grid {tok!r} has an empty value; {_EXAMPLE}")
        if key == "fc":
            values = []
            for part in text.split(","):
                widths = _ints(key, part.replace("-", ","), tok, allow_zero=True)
                if 0 in widths and widths != [0]:
                    raise PnetcError(f"grid {tok!r}: fc=0 means no hidden layer and cannot be part of {part!r}")
                values.append(() if widths == [0] else tuple(widths))
        else:
            values = _ints(key, text, tok)
        grid[key] = list(dict.fromkeys(values))  # drop repeats, keep order
    for key in GRID_KEYS:
        grid.setdefault(key, [None])
    return grid


def parse_modes(text: str | None) -> list[str]:
    parts = [p.strip() for p in (text or "joint,alone").split(",") if p.strip()]
    if not parts:
        raise PnetcError("--modes is empty; use joint, alone or joint,alone")
    for p in parts:
        if p not in MODES:
            raise PnetcError(f"unknown mode {p!r} in --modes; use joint, alone or joint,alone")
    return list(dict.fromkeys(parts))


# ---------------------------------------------------------------------------
# CSV and settings
# ---------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            return []
        if tuple(reader.fieldnames) != COLUMNS:
            raise PnetcError(f"{path} does not have the columns of a pnetc sweep; use another --out")
        return list(reader)


def _append_row(path: Path, row: dict) -> None:
    new = not path.is_file() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({k: _str(row.get(k)) for k in COLUMNS})


def _check_settings(out: Path, settings: dict) -> None:
    path = out / SETTINGS_NAME
    if path.is_file():
        try:
            saved = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise PnetcError(f"{path} is not valid JSON; delete it or use another --out") from None
        if saved != settings:
            diff = ", ".join(f"{k}={saved.get(k)!r} (now {settings.get(k)!r})"
                             for k in sorted(set(saved) | set(settings)) if saved.get(k) != settings.get(k))
            raise PnetcError(f"{out} holds a sweep with other options: {diff}; use the same options or another --out")
    else:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def run_sweep(
    *,
    dataset: str,
    out: str | Path,
    grid: list[str] | str | None = None,
    modes: str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    trainer: str | None = None,
    kind: str | None = None,
    density: float | None = None,
    lambdas: str | None = None,
    temperature: float = 1.0,
    data_dir: str | None = None,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Train every missing (grid point, mode) plus the trainer reference; write CSV and PNG.

    Returns {"csv", "png", "trained", "skipped", "rows"} (rows: every CSV row, typed)."""
    import os

    from pnetc.training.config import TrainConfig, parse_lambdas, resolve

    if int(os.environ.get("WORLD_SIZE") or 1) > 1:  # every rank would run the whole grid and write the CSV
        raise PnetcError("pnetc sweep runs its grid in one process; start it without torchrun")
    parsed = parse_grid(grid)
    mode_names = parse_modes(modes)
    if epochs is not None and epochs <= 0:
        raise PnetcError(f"--epochs must be a positive integer, got {epochs}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PnetcError(f"--out {out} exists and is not a directory")

    from pnetc.datasets import load_dataset

    ds = load_dataset(dataset, data_dir=data_dir)
    if trainer is None and ds.task == "text":
        trainer = "lstm"  # a sweep compares joint training with a trainer; text trains none by default
    base = TrainConfig(dataset=dataset, data_dir=data_dir, trainer=trainer, kind=kind, density=density,
                       epochs=epochs, seed=seed, device=device, temperature=temperature,
                       lambdas=parse_lambdas(lambdas) if lambdas is not None else TrainConfig().lambdas)
    shape = tuple(ds.input_shape)
    # Resolve (and so validate) every configuration before the first run.
    configs: list[tuple[Point, TrainConfig]] = []
    for T, d, fc in itertools.product(parsed["T"], parsed["d"], parsed["fc"]):
        for m in mode_names:
            c = resolve(replace(base, tables=T, bits_per_table=d, fc=None if fc is None else list(fc), mode=MODES[m]),
                        ds.task, shape, ds.name)
            configs.append((Point(c.tables, c.bits_per_table, tuple(c.fc), m), c))
    smallest = min((c for _, c in configs), key=lambda c: c.num_bits)  # the trainer ignores the bits: cheapest
    ref = resolve(replace(base, tables=smallest.tables, bits_per_table=smallest.bits_per_table, fc=[],
                          mode="trainer-only"), ds.task, shape, ds.name)
    configs.insert(0, (Point(None, None, None, TRAINER_MODE), ref))
    configs = list({p.key: (p, c) for p, c in configs}.values())  # grid values that resolve alike

    r0 = configs[-1][1]
    settings = {"dataset": ds.name, "trainer": r0.trainer, "kind": r0.kind, "density": r0.density,
                "epochs": r0.epochs, "seed": r0.seed, "lambdas": "/".join(f"{v:g}" for v in r0.lambdas),
                "temperature": r0.temperature}
    _check_settings(out, settings)
    csv_path, png_path = out / CSV_NAME, out / PNG_NAME
    done = {tuple(r[k] for k in ("T", "d", "fc", "mode")) for r in read_rows(csv_path)}
    todo = [(p, c) for p, c in configs if p.key not in done]

    trained = 0
    if todo:
        trained = _train_all(todo, ds, settings, out, csv_path, progress)
    rows = [typed_row(r) for r in read_rows(csv_path)]
    temp = "" if settings["temperature"] == 1.0 else f", temperature {settings['temperature']:g}"
    plot(rows, png_path, title=f"{ds.name}: accuracy vs neural bits ({settings['epochs']} epochs, "
                               f"joint λ = {settings['lambdas']}{temp}, seed {seed})")
    return {"csv": str(csv_path), "png": str(png_path), "trained": trained,
            "skipped": len(configs) - len(todo), "rows": rows}


def _train_all(todo, ds, settings: dict, out: Path, csv_path: Path, progress: bool) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pnetc.training.loop import CHECKPOINT, prepare, train

    console = Console(stderr=True)
    bar = Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                   TimeElapsedColumn(), console=console, disable=not progress)
    prepared_by_bits: dict[tuple, object] = {}
    with bar:
        task = bar.add_task("", total=len(todo))
        for point, config in todo:
            bar.update(task, description=point.label)
            # the bits depend only on T*d (kind, seed, density are shared): compute them once per
            # bit count; keep only the latest, since the bit matrices of big grids are large
            prepared = prepared_by_bits.get(config.num_bits)
            if prepared is None:
                prepared = prepare(ds, config)
                prepared_by_bits = {config.num_bits: prepared}
            prepared = replace(prepared, config=config)
            run_dir = out / "runs" / point.dirname
            started = time.monotonic()
            result = train(config, run_dir, prepared=prepared, progress=False,
                           resume=(run_dir / CHECKPOINT).is_file())
            row = dict(settings, T=point.T, d=point.d, fc=None if point.fc is None else fc_text(point.fc),
                       mode=point.mode, seconds=round(time.monotonic() - started, 2),
                       trainer_accuracy=result["trainer_accuracy"], trainer_weight_bytes=result["trainer_weight_bytes"],
                       model=Path(result["model"]).relative_to(out).as_posix())
            if point.mode == TRAINER_MODE:
                row.update(accuracy=result["trainer_accuracy"], weight_bytes=result["trainer_weight_bytes"])
            else:
                row.update(bits=result["projection_bits"], weight_bytes=result["weight_bytes"],
                           accuracy=result["projection_accuracy"],
                           accuracy_int8_sim=result.get("projection_accuracy_int8_sim"))
            _append_row(csv_path, row)
            (run_dir / CHECKPOINT).unlink(missing_ok=True)  # the row is the record now
            bar.update(task, advance=1)
            if progress:
                console.print(f"{point.label}: accuracy {row['accuracy']:.4f}"
                              + (f"  ({row['bits']} bits, {row['weight_bytes']} B)" if row.get("bits") else ""))
    return len(todo)


def typed_row(r: dict[str, str]) -> dict:
    ints = ("epochs", "seed", "T", "d", "bits", "weight_bytes", "trainer_weight_bytes")
    floats = ("density", "temperature", "accuracy", "accuracy_int8_sim", "trainer_accuracy", "seconds")
    out: dict = {}
    for k, v in r.items():
        if v == "":
            out[k] = None
        elif k in ints:
            out[k] = int(v)
        elif k in floats:
            out[k] = float(v)
        else:
            out[k] = v
    return out


# ---------------------------------------------------------------------------
# Plot
# ---------------------------------------------------------------------------

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
    fig.savefig(path, dpi=110)


# ---------------------------------------------------------------------------
# Text summary
# ---------------------------------------------------------------------------


def print_rows(result: dict) -> None:
    """The sweep as a table on stdout, cheapest first within each mode."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['csv']}  ({result['trained']} trained, {result['skipped']} already done)")
    for col in ("mode", "T", "d", "fc", "bits", "weight B", "accuracy", "int8 est."):
        table.add_column(col, justify="left" if col in ("mode", "fc") else "right")
    order = {TRAINER_MODE: 0, "joint": 1, "alone": 2}
    for r in sorted(result["rows"], key=lambda r: (order.get(r["mode"], 3), r["bits"] or 0, r["weight_bytes"] or 0)):
        table.add_row(r["mode"], _str(r["T"]), _str(r["d"]), _str(r["fc"]), _str(r["bits"]), _str(r["weight_bytes"]),
                      "" if r["accuracy"] is None else f"{r['accuracy']:.4f}",
                      "" if r["accuracy_int8_sim"] is None else f"{r['accuracy_int8_sim']:.4f}")
    Console().print(table)
    Console().print(f"plot: {result['png']}")
