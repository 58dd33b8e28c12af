"""Budget-aware training: the best model that fits a board's flash, RAM and instruction budget.

1. enumerate candidates of both families (projection nets: T, d, kind, density, hidden widths;
   plain MLPs on the inputs) whose predicted cost (pnetc.measure.costmodel) is within the budget;
2. rank them by short proxy trainings (few epochs; see mlp_proxy_epochs): every MLP shape and the most
   capable projection net of each shape; among those within one standard error of the best, the
   cheapest first;
3. train the best one fully, compile it, bench it on the board and check the measured cost against
   the budget (the next-ranked candidate is tried if it does not fit);
4. report every candidate and the Pareto frontier (accuracy vs flash and vs instructions).

The device accuracy is the compiled int8 reference's accuracy on the whole test split: the board
runs it bit for bit (the bench counts mismatches on its samples).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from pnetc import progress as _progress
from pnetc.errors import PnetcError
from pnetc.measure import costmodel
from pnetc.measure.costmodel import Candidate
from pnetc.outdir import write_png

TABLES = (2, 4, 6, 8, 12, 16, 20, 24, 32, 48, 64, 90, 128)
BITS_PER_TABLE = (8, 12)
HIDDEN = ((), (16,), (32,), (64,), (128,), (256,))
MLP_HIDDEN = ((8,), (16,), (32,), (64,), (128,), (256,), (32, 32), (64, 64), (128, 128), (256, 256))
TERNARY_NONZEROS = (8, 24)  # nonzeros per bit of the ternary candidates (dense inputs above 64 features)
PROXY_PER_FAMILY = 4  # projection nets proxy-trained (one per shape)
# projection nets with a learned stem (--stem): conv stems for [H, W] images, dense stems for any dense input
CONV_STEMS = ("conv:4,8", "conv:8,16")
DENSE_STEMS = ("dense:32", "dense:64")
STEM_TABLES = (16, 32, 64, 128)  # d = 16: 256 ... 2048 bits
STEM_HIDDEN = ((), (16,), (32,), (48,), (64,))
STEM_PROXIES = 2  # stem nets proxy-trained: the most capable of each stem kind
PROXY_SUBSET = 5000  # up to this many training samples, an MLP proxy is its full training
BENCH_SAMPLES = 10
RETRIES = 3


@dataclass(frozen=True)
class Budget:
    board: str
    max_flash: Optional[int] = None         # bytes of model flash (code + weights)
    max_ram: Optional[int] = None           # bytes of model RAM (static + stack high-water)
    max_instructions: Optional[int] = None  # per inference

    def allows(self, cost) -> bool:
        return ((self.max_flash is None or cost.flash_bytes <= self.max_flash)
                and (self.max_ram is None or cost.ram_bytes <= self.max_ram)
                and (self.max_instructions is None or cost.instructions <= self.max_instructions))

    def describe(self) -> str:
        parts = [f"flash <= {self.max_flash:,} B" if self.max_flash else "",
                 f"RAM <= {self.max_ram:,} B" if self.max_ram else "",
                 f"instructions <= {self.max_instructions:,}" if self.max_instructions else ""]
        return f"{self.board}: " + (", ".join(p for p in parts if p) or "no limit")


@dataclass
class Row:
    """One candidate: its predicted cost, proxy accuracy and, for the trained ones, the measured cost."""

    candidate: Candidate
    predicted: costmodel.Cost
    proxy_accuracy: Optional[float] = None
    accuracy: Optional[float] = None          # the compiled int8 reference on the whole test split
    measured: Optional[dict] = None            # flash_bytes, ram_bytes, instructions, mismatches on the board
    fits: Optional[bool] = None
    model: Optional[str] = None

    def to_dict(self) -> dict:
        d = {"candidate": self.candidate.label(), "spec": self.candidate.to_dict(),
             "predicted": self.predicted.to_dict(), "proxy_accuracy": self.proxy_accuracy,
             "accuracy": self.accuracy, "measured": self.measured, "fits": self.fits, "model": self.model}
        return d


@dataclass
class BudgetSearch:
    budget: Budget
    features: int
    classes: int
    samples: int
    enumerated: int
    rows: list[Row]
    chosen: Optional[Row]
    frontier: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"budget": asdict(self.budget), "features": self.features, "classes": self.classes,
                "samples": self.samples, "enumerated": self.enumerated, "rows": [r.to_dict() for r in self.rows],
                "chosen": None if self.chosen is None else self.chosen.to_dict(),
                "frontier": [r.candidate.label() for r in self.frontier]}


def enumerate_candidates(features: int, classes: int, *, text: bool = False, shape: tuple = ()) -> list[Candidate]:
    """The model family: projection nets (binary; ternary too above 64 features) and, for dense
    inputs, projection nets after a learned stem (conv stems for [H, W] images) and plain MLPs."""
    out = []
    kinds: list[tuple[str, Optional[float]]] = [("binary", None)]
    if not text and features > 64:
        kinds += [("ternary", round(min(1.0, k / features), 4)) for k in TERNARY_NONZEROS]
    for d in BITS_PER_TABLE:
        for t in TABLES:
            if t * d > 1 << 12:
                continue
            for kind, density in kinds:
                for fc in HIDDEN:
                    out.append(Candidate(features, classes, "projection", t, d, kind, density, fc))
    if not text:
        stems = list(DENSE_STEMS)
        if len(shape) == 2 and min(shape) >= 4:
            stems += CONV_STEMS
        out += [Candidate(features, classes, "projection", t, 16, "binary", None, fc, stem=stem, shape=tuple(shape))
                for stem in stems for t in STEM_TABLES for fc in STEM_HIDDEN]
        out += [Candidate(features, classes, "mlp", fc=fc) for fc in MLP_HIDDEN]
    return out


def capacity(c: Candidate) -> float:
    """How much a candidate can learn, for picking which to proxy-train: its weights, and a projection
    net's bits count as inputs it can separate (a stem's weights count too)."""
    widths = c.widths()
    stem = sum(s.weights for s in costmodel.stem_layers(c))
    return sum(a * b for a, b in zip(widths[:-1], widths[1:])) + c.num_bits + stem


def pick_for_proxy(rows: list[Row], per_family: int = PROXY_PER_FAMILY) -> list[Row]:
    """Which candidates to proxy-train: every MLP shape (they train in seconds) and, per shape of
    projection net (kind, hidden layer or not, d), the most capable one, up to `per_family` of them."""
    picked = [r for r in rows if r.candidate.family == "mlp"]
    stems: set = set()
    for r in sorted((r for r in rows if r.candidate.stem), key=lambda r: -capacity(r.candidate)):
        kind = r.candidate.stem.split(":")[0]
        if kind not in stems and len(stems) < STEM_PROXIES:
            stems.add(kind)
            picked.append(r)
    mine = sorted((r for r in rows if r.candidate.family == "projection" and not r.candidate.stem),
                  key=lambda r: -capacity(r.candidate))
    seen: set = set()
    for r in mine:
        c = r.candidate
        key = (c.kind, len(c.fc) > 0, c.bits_per_table)
        if key in seen:
            continue
        seen.add(key)
        picked.append(r)
        if len(seen) >= per_family:
            break
    return picked


def rank(rows: list[Row], test_samples: int) -> list[Row]:
    """Best first, by the one-standard-error rule: the proxies within one standard error of the best
    proxy accuracy (sqrt(p (1 - p) / test samples)) are equally good as far as the test split can
    tell, so the cheapest of them (least predicted flash x instructions) comes first; then the rest
    by proxy accuracy."""
    best = max(r.proxy_accuracy for r in rows)
    se = math.sqrt(max(best * (1 - best), 1e-6) / max(test_samples, 1))
    tied = [r for r in rows if r.proxy_accuracy >= best - se]
    tied.sort(key=lambda r: (r.predicted.flash_bytes * r.predicted.instructions, -r.proxy_accuracy))
    rest = sorted((r for r in rows if r not in tied), key=lambda r: (-r.proxy_accuracy, r.predicted.flash_bytes))
    return tied + rest


def pareto(rows: list[Row], cost: str) -> list[Row]:
    """Rows not dominated on (accuracy up, measured-or-predicted `cost` down)."""
    pts = [r for r in rows if _acc(r) is not None]
    out = []
    for r in pts:
        if not any(_acc(o) >= _acc(r) and _cost(o, cost) <= _cost(r, cost)
                   and (_acc(o) > _acc(r) or _cost(o, cost) < _cost(r, cost)) for o in pts):
            out.append(r)
    return sorted(out, key=lambda r: _cost(r, cost))


def _acc(r: Row) -> Optional[float]:
    return r.accuracy if r.accuracy is not None else r.proxy_accuracy


def _cost(r: Row, name: str) -> float:
    return float(r.measured[name]) if r.measured else float(getattr(r.predicted, name))


def train_candidate(dataset: str, c: Candidate, out: Path, *, epochs: Optional[int], proxy: bool,
                    data_dir: Optional[str], seed: int) -> tuple[Path, Optional[Path], float]:
    """Train one candidate; (model.onnx, calibration npz or None, float test accuracy)."""
    if c.family == "mlp":
        from pnetc.training.student import train_mlp

        r = train_mlp(dataset, out, hidden=list(c.fc), epochs=epochs or 20, seed=seed, data_dir=data_dir)
        return Path(r["model"]), Path(r["calib"]), float(r["accuracy"])
    from pnetc.training import train_with_options

    r = train_with_options(dict(dataset=dataset, out=str(out), data_dir=data_dir, trainer="none" if proxy else None,
                                tables=c.tables, bits_per_table=c.bits_per_table, kind=c.kind, density=c.density,
                                fc=list(c.fc) or [0], epochs=epochs, seed=seed, force=True, progress=False,
                                stem=c.stem))
    accuracy = r.get("projection_accuracy_int8_sim") or r.get("projection_accuracy")
    return Path(r["model"]), None, float(accuracy)


def device_accuracy(model: Path, calib: Optional[Path], ds, work: Path) -> float:
    """The compiled int8 model's reference accuracy on the data set's whole test split (what the board
    computes)."""
    from pnetc.compiler import compile_model

    compiled = compile_model(model, work, precision="int8", calib=None if calib is None else str(calib), force=True)
    x = np.asarray(ds.x_test)
    x = x.reshape(len(x), -1).astype(np.float32) if calib is not None else x
    pred = compiled.reference.run(x).predictions
    return float(np.mean(np.asarray(pred) == np.asarray(ds.y_test)))


def measure(model: Path, calib: Optional[Path], board: str, ds) -> dict:
    """Flash, RAM and instructions on the board over the first test samples, and the mismatches."""
    from pnetc.measure.benchmark import bench_model

    x = np.asarray(ds.x_test)[:BENCH_SAMPLES]
    samples = list(x.reshape(len(x), -1).astype(np.float32) if calib is not None else x)
    report = bench_model(model, board, n=BENCH_SAMPLES, samples=samples, calib=None if calib is None else str(calib))
    d = report.to_dict()
    return {"flash_bytes": d["flash_bytes"], "ram_bytes": d["ram_bytes"],
            "instructions": round(d["instructions_per_inference"]), "mismatches": d["mismatches"]}


def search(dataset: str, out, budget: Budget, *, data_dir: Optional[str] = None, epochs: Optional[int] = None,
           proxy_epochs: Optional[int] = None, seed: int = 0, families: tuple = costmodel.FAMILIES,
           per_family: int = PROXY_PER_FAMILY, plot: Optional[str] = None, progress: bool = True) -> BudgetSearch:
    """Enumerate, proxy-rank, train the best fully, bench it on the board; write OUT/budget.json."""
    from pnetc.datasets import load_dataset

    if budget.max_flash is None and budget.max_ram is None and budget.max_instructions is None:
        raise PnetcError("--board needs a budget: give --max-flash, --max-ram and/or --max-instructions")
    cal = costmodel.calibration(budget.board)
    from pnetc.targets.boards import runnable_board

    runnable_board(budget.board)  # fail before training if the board cannot run here
    ds = load_dataset(dataset, data_dir=data_dir)
    if ds.task == "text":
        raise PnetcError("budget-aware training supports dense data sets; the cost model has no text terms yet")
    features = int(np.prod(ds.input_shape))
    classes, samples = len(ds.labels), len(ds.y_train)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    every = [c for c in enumerate_candidates(features, classes, shape=tuple(ds.input_shape)) if c.family in families
             and (c.stem is None or costmodel.has_stem_terms(cal))]
    rows = [Row(c, cal.predict(c)) for c in every]
    rows = [r for r in rows if budget.allows(r.predicted)]
    if not rows:
        raise PnetcError(f"no candidate fits {budget.describe()} (the smallest needs "
                         f"{_smallest(every, cal)}); raise the budget")
    proxies = pick_for_proxy(rows, per_family)
    proxy_epochs = proxy_epochs or max(2, min(10, round(10_000 / max(samples, 1))))
    with _progress.tracker("budget search", progress) as t:
        for i, r in enumerate(proxies):
            t.stage(f"proxy {i + 1}/{len(proxies)}: {r.candidate.label()}")
            t.samples(i, len(proxies))
            mine = mlp_proxy_epochs(samples, proxy_epochs) if r.candidate.family == "mlp" else proxy_epochs
            _, _, r.proxy_accuracy = train_candidate(dataset, r.candidate, out / "proxies" / r.candidate.slug(),
                                                     epochs=mine, proxy=True, data_dir=data_dir, seed=seed)
        ranked = rank(proxies, len(ds.y_test))
        chosen = None
        for r in ranked[:RETRIES]:
            t.stage(f"train {r.candidate.label()} fully")
            folder = out / r.candidate.slug()
            final_epochs = epochs if epochs is not None else (mlp_epochs(samples)
                                                              if r.candidate.family == "mlp" else None)
            model, calib, _ = train_candidate(dataset, r.candidate, folder, epochs=final_epochs, proxy=False,
                                              data_dir=data_dir, seed=seed)
            t.stage(f"bench {r.candidate.label()} on {budget.board}")
            r.measured = measure(model, calib, budget.board, ds)
            r.accuracy = device_accuracy(model, calib, ds, folder / "compiled")
            r.fits = budget.allows(costmodel.Cost(**{k: r.measured[k] for k in costmodel.TARGETS}))
            r.model = str(model)
            if r.fits:
                chosen = r
                break
    result = BudgetSearch(budget, features, classes, samples, len(every), proxies, chosen)
    result.frontier = pareto(proxies, "flash_bytes")
    (out / "budget.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    if plot:
        plot_frontier(result, plot)
    return result


def mlp_proxy_epochs(samples: int, proxy_epochs: int) -> int:
    """Small data sets: an MLP proxy is the full training (seconds). Large ones: the whole split for the
    projection proxies' epochs, so both families see as much data before they are compared (MLPs on
    a subset looked 3-4 points worse than they train, and lost every comparison)."""
    return mlp_epochs(samples) if samples <= PROXY_SUBSET else proxy_epochs


def mlp_epochs(samples: int) -> int:
    """An MLP's full training: the epochs the input-scaled defaults give a data set of this size."""
    from pnetc.training.sizing import scaled_defaults

    return scaled_defaults(1, 2, samples)["epochs"]


def _smallest(candidates: list[Candidate], cal) -> str:
    costs = [cal.predict(c) for c in candidates]
    return (f"{min(c.flash_bytes for c in costs):,} B flash, {min(c.ram_bytes for c in costs):,} B RAM, "
            f"{min(c.instructions for c in costs):,} instructions")


def table_lines(result: BudgetSearch) -> list[str]:
    """The candidates (proxy-ranked), the chosen one and the frontier, as printed by `pnetc train --board`."""
    lines = [f"budget {result.budget.describe()}; {result.enumerated} candidates, {len(result.rows)} ranked by "
             f"proxy training ({result.features} features, {result.classes} classes, {result.samples} samples)",
             f"{'candidate':38s} {'flash':>9s} {'RAM':>7s} {'instr':>10s} {'proxy':>7s} {'device':>7s}"]
    frontier = {id(r) for r in result.frontier}
    for r in sorted(result.rows, key=lambda r: -(r.proxy_accuracy or 0)):
        src = r.measured or r.predicted.to_dict()
        mark = "*" if r is result.chosen else ("^" if id(r) in frontier else " ")
        lines.append(f"{mark}{r.candidate.label():37s} {src['flash_bytes']:>9,} {src['ram_bytes']:>7,} "
                     f"{src['instructions']:>10,} {_pct(r.proxy_accuracy):>7s} {_pct(r.accuracy):>7s}")
    lines.append("(* chosen, ^ on the accuracy/flash frontier; costs measured on the board where a device "
                 "accuracy is shown, else predicted)")
    if result.chosen is None:
        lines.append("no trained candidate fitted the budget on the board")
    else:
        m = result.chosen.measured
        lines.append(f"chosen {result.chosen.candidate.label()}: device accuracy {_pct(result.chosen.accuracy)}, "
                     f"{m['flash_bytes']:,} B flash, {m['ram_bytes']:,} B RAM, {m['instructions']:,} instructions, "
                     f"{m['mismatches']} mismatches -> {result.chosen.model}")
    return lines


def _pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{100 * v:.2f}"


def plot_frontier(result: BudgetSearch, path) -> Path:
    """Accuracy vs flash and vs instructions, the candidates as dots, each frontier as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.ticker
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, cost, name in ((axes[0], "flash_bytes", "flash (bytes)"), (axes[1], "instructions", "instructions")):
        for family, marker in (("projection", "o"), ("mlp", "s")):
            pts = [r for r in result.rows if r.candidate.family == family and _acc(r) is not None]
            ax.scatter([_cost(r, cost) for r in pts], [100 * _acc(r) for r in pts], marker=marker, label=family)
        front = pareto(result.rows, cost)
        ax.plot([_cost(r, cost) for r in front], [100 * _acc(r) for r in front], "k--", lw=1, label="frontier")
        if result.chosen is not None:
            ax.scatter([_cost(result.chosen, cost)], [100 * _acc(result.chosen)], s=120, facecolors="none",
                       edgecolors="r", label="chosen")
        limit = {"flash_bytes": result.budget.max_flash, "instructions": result.budget.max_instructions}[cost]
        if limit:
            ax.axvline(limit, color="r", lw=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels overlap
        ax.set_xlabel(name)
        ax.set_ylabel("accuracy (%)")
        ax.legend(fontsize=7)
    fig.suptitle(f"budget {result.budget.describe()}", fontsize=9)
    fig.tight_layout()
    try:
        return write_png(fig, path, dpi=110)
    finally:
        plt.close(fig)
