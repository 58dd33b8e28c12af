"""How many neural bits: accuracy against total projection bits and against measured flash.

The grid is trained by `pnetc sweep` (resumable: DIR/<dataset>/sweep.csv). For every projection
net of the sweep this module compiles the int8 model, measures its flash on the board as the
size delta against a no-model build (pnetc.targets.build.build_and_measure), and takes its
accuracy from pnetc's int8 golden interpreter on the whole test split (the device gives the same
answers bit for bit; `pnetc run` checks that). The trainer, trained alone by the sweep, is the
reference line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from pnetc.errors import PnetcError

DEFAULT_GRIDS = {
    "fashion-mnist": "T=2,4,8,16,32,64,90 d=8 fc=0,64,256",
    "langid": "T=2,4,8,16,32,64,90 d=8 fc=0,64,256",
}
# 'alone' (the projection net trained on the labels, its bits computed once per bit count) keeps the
# sweep to minutes on 2 cores; 'joint' retrains the trainer at every grid point
DEFAULT_MODES = {"fashion-mnist": "alone", "langid": "alone"}
DEFAULT_EPOCHS = {"fashion-mnist": 5, "langid": 2}


def log(msg: str) -> None:
    from bench.compare import log as _log

    _log(msg)


def run_sweep(dataset: str, out: Path, grid: str, modes: str, epochs: int | None) -> None:
    """`pnetc sweep` (it skips what DIR/sweep.csv already holds)."""
    cmd = [sys.executable, "-m", "pnetc", "sweep", "--dataset", dataset, "--out", str(out), "--modes", modes,
           "--grid", grid]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    log(f"sweep {dataset}: {' '.join(cmd[1:])}")
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise PnetcError(f"`pnetc sweep --dataset {dataset}` failed (exit {proc.returncode})")


BENCH_SAMPLES = 100  # instructions per inference: mean over the first test samples (pnetc bench)


def measure_sweep(dataset: str, sweep_dir: Path, board_name: str, work: Path) -> dict:
    """Every sweep row, plus int8 flash, int8 accuracy and instructions per inference for each projection net."""
    from pnetc.measure.benchmark import bench_model
    from pnetc.compiler import compile_model
    from pnetc.datasets import load_dataset
    from pnetc.targets.boards import get_board
    from pnetc.targets.build import build_and_measure
    from pnetc.training.sweep import read_typed_rows

    board = get_board(board_name)
    rows = read_typed_rows(sweep_dir / "sweep.csv")
    if not rows:
        raise PnetcError(f"{sweep_dir / 'sweep.csv'} has no rows; run `pnetc sweep` first")
    ds = load_dataset(dataset)
    x_test, y_test = ds.x_test, np.asarray(ds.y_test)
    bench_inputs = list(x_test[:BENCH_SAMPLES])
    points = []
    for r in rows:
        p = {k: r.get(k) for k in ("T", "d", "fc", "mode", "bits", "weight_bytes", "accuracy", "accuracy_int8_sim",
                                    "trainer", "epochs", "trainer_weight_bytes")}
        model = sweep_dir / r["model"] if r.get("model") else None
        if r["mode"] != "trainer" and model is not None and model.exists():
            tag = f"{r['mode']}-T{r['T']}-d{r['d']}-fc{r['fc']}"
            try:
                compiled = compile_model(model, work / tag / "model", name="model", precision="int8")
                built = build_and_measure(board, compiled, work / tag / "fw", measure_stack=False)
                p["flash_bytes"] = int(built.size.model_flash)
                p["accuracy_int8"] = float(np.mean(compiled.reference.run(x_test).predictions == y_test))
                rep = bench_model(model, board.name, n=BENCH_SAMPLES, samples=bench_inputs, precision="int8",
                                  out_dir=work / tag / "bench").to_dict()
                if rep["mismatches"]:
                    raise PnetcError(f"{rep['mismatches']} benchmark answers differ from the golden interpreter")
                p["instructions"] = float(rep["instructions_per_inference"])
                log(f"{dataset} {tag}: flash {p['flash_bytes']:,} int8 accuracy {p['accuracy_int8']:.4f} "
                    f"instructions {p['instructions']:,.0f}")
            except PnetcError as exc:
                p["error"] = str(exc).splitlines()[0][:200]
                log(f"{dataset} {tag}: {p['error']}")
        points.append(p)
    return {"dataset": dataset, "board": board.name, "points": points}


def plot_bits(bits: dict, path: Path) -> Path | None:
    """Rows = data sets; left: accuracy vs total bits, right: accuracy vs measured int8 flash."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    entries = [e for e in bits.values() if e.get("points")]
    if not entries:
        return None
    fig, axes = plt.subplots(len(entries), 3, figsize=(17, 4.3 * len(entries)), squeeze=False)
    markers = {}
    for fc in sorted({p["fc"] for e in entries for p in e["points"] if p["mode"] != "trainer"}, key=fc_key):
        markers[fc] = "os^Dv"[len(markers) % 5]
    for (ax_bits, ax_flash, ax_ins), e in zip(axes, entries):
        pts = [p for p in e["points"] if p["mode"] != "trainer" and p.get("accuracy_int8") is not None]
        ref = next((p for p in e["points"] if p["mode"] == "trainer"), None)
        for fc in sorted({p["fc"] for p in pts}, key=fc_key):
            sel = sorted((p for p in pts if p["fc"] == fc), key=lambda p: p["bits"])
            m = markers.setdefault(fc, "os^Dv"[len(markers) % 5])
            color = f"C{list(markers).index(fc) % 10}"
            label = "no hidden layer" if str(fc) == "0" else f"FC {fc}"
            ax_bits.plot([p["bits"] for p in sel], [100 * p["accuracy_int8"] for p in sel], marker=m, label=label,
                         color=color)
            ax_flash.plot([p["flash_bytes"] for p in sel], [100 * p["accuracy_int8"] for p in sel], marker=m,
                          label=label, color=color)
            timed = [p for p in sel if p.get("instructions")]
            ax_ins.plot([p["instructions"] for p in timed], [100 * p["accuracy_int8"] for p in timed], marker=m,
                        label=label, color=color)
        has_ins = any(p.get("instructions") for p in pts)
        for ax in (ax_bits, ax_flash, ax_ins) if has_ins else (ax_bits, ax_flash):
            if ref and ref.get("accuracy") is not None:
                ax.axhline(100 * ref["accuracy"], color="0.3", ls="--", lw=1,
                           label=f"trainer ({ref.get('trainer')}, float32 weights {ref.get('weight_bytes') or 0:,} B): "
                                 f"{100 * ref['accuracy']:.2f} %")
            ax.set_xscale("log", base=2 if ax is ax_bits else 10)
            if ax is ax_flash:
                ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_major_formatter(FuncFormatter(
                    lambda v, _pos=None: f"{v / 1000:,.0f} kB" if v >= 1000 else f"{v:.0f} B"))
            elif ax is ax_ins:
                ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_major_formatter(FuncFormatter(
                    lambda v, _pos=None: f"{v / 1000:,.0f} k" if v >= 1000 else f"{v:.0f}"))
            else:
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos=None: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.grid(True, alpha=0.3)
            ax.set_ylabel(f"{e['dataset']}: test accuracy, int8 (%)")
        ax_bits.set_xlabel("total projection bits T·d")
        ax_flash.set_xlabel(f"flash bytes of the int8 model on {e['board']} (size delta)")
        ax_ins.set_xlabel(f"instructions per inference on {e['board']} (int8)" if has_ins else "(no instruction counts)")
        ax_bits.legend(fontsize=8, loc="lower right")
    fig.suptitle("How many neural bits: projection nets from `pnetc sweep`, int8, golden interpreter = device")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fc_key(fc) -> list[int]:
    return [int(w) for w in str(fc).split("-")] if fc is not None else [-1]


def bits_section(bits: dict, chart_rel: str | None) -> list[str]:
    lines = ["## How many neural bits", "",
             "Projection nets trained by `pnetc sweep` (grid and epochs below), compiled to int8; accuracy from",
             "pnetc's int8 golden interpreter on the whole test split (bit-exact with the firmware), flash measured",
             "as the size delta on the board. The dashed line is the trainer trained alone with the same epochs",
             "(few, to keep the sweep to minutes on 2 cores: an undertrained reference, the langid LSTM most of all).",
             ""]
    if chart_rel:
        lines += [f"![how many neural bits]({chart_rel})", ""]
    for e in bits.values():
        pts = e.get("points") or []
        ref = next((p for p in pts if p["mode"] == "trainer"), None)
        epochs = next((p.get("epochs") for p in pts if p.get("epochs")), None)
        runs = [p for p in pts if p["mode"] != "trainer"]
        ts = ",".join(str(t) for t in sorted({p["T"] for p in runs if p["T"] is not None}))
        fcs = ",".join(sorted({str(p["fc"]) for p in runs}, key=fc_key))
        lines += [f"### {e['dataset']} (T={ts} d={','.join(sorted({str(p['d']) for p in runs}))} fc={fcs}, "
                  f"mode {e.get('modes', '')}, {epochs} epochs)", ""]
        if ref:
            lines += [f"Trainer ({ref.get('trainer')}): {100 * ref['accuracy']:.2f} %, float32 weights "
                      f"{ref.get('weight_bytes') or 0:,} bytes.", ""]
        lines += [f"| T | d | FC | bits | accuracy float (sweep) | accuracy int8 | flash bytes int8 | "
                  f"instructions / inference ({e['board']}, first {BENCH_SAMPLES} test samples) |",
                  "|---:|---:|---|---:|---:|---:|---:|---:|"]
        for p in sorted((p for p in pts if p["mode"] != "trainer"), key=lambda p: (fc_key(p["fc"]), p["bits"] or 0)):
            acc = "—" if p.get("accuracy") is None else f"{100 * p['accuracy']:.2f} %"
            acc8 = "—" if p.get("accuracy_int8") is None else f"{100 * p['accuracy_int8']:.2f} %"
            flash = "—" if p.get("flash_bytes") is None else f"{p['flash_bytes']:,}"
            ins = "—" if p.get("instructions") is None else f"{p['instructions']:,.0f}"
            lines.append(f"| {p['T']} | {p['d']} | {p['fc']} | {p['bits']:,} | {acc} | {acc8} | {flash} | {ins} |")
        lines.append("")
    return lines
