"""`python -m bench --parts frontier`: the model pnetc picks within a flash budget against baseline MLPs.

On one board, every row goes through the same harness (bench/harness.py) on the same test samples:
* pnetc's picks: `pnetc train --board B --max-flash X` for each budget X (pnetc/budget.py);
* baselines: emlearn (float sklearn MLPs, one hidden layer of each width) and pnetc-compiled int8 MLPs
  of the same widths (pnetc/training/student.py), each trained on the same training split for the
  same number of epochs (by default the epochs the search trains an MLP pick for).
A pick is dominated when a baseline row is at least as good on device accuracy, flash and
instructions, and better on one of them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from pnetc.errors import PnetcError

BUDGETS = (8 * 1024, 32 * 1024, 128 * 1024)
WIDTHS = (8, 16, 32, 64, 128)


def _measured(board, row, work: Path, y_test, baselines: dict) -> dict:
    from bench.harness import accuracy, measure_row

    m = measure_row(board, row, work, baselines=baselines)
    return {"label": row.label, "model": row.model, "tool": row.tool, "precision": row.precision,
            "accuracy_device": float(accuracy(m.predictions, y_test)), "flash_bytes": int(m.flash_bytes),
            "ram_bytes": int(m.ram_static_bytes + m.stack_bytes), "instructions": float(m.instructions_mean),
            "reference_disagreements": int(np.sum(m.predictions != row.reference))}


def dominated_by(pick: dict, rows: list[dict]) -> list[dict]:
    """Rows at least as good as `pick` on accuracy, flash and instructions and better on one."""
    out = []
    for r in rows:
        ge = (r["accuracy_device"] >= pick["accuracy_device"] and r["flash_bytes"] <= pick["flash_bytes"]
              and r["instructions"] <= pick["instructions"])
        gt = (r["accuracy_device"] > pick["accuracy_device"] or r["flash_bytes"] < pick["flash_bytes"]
              or r["instructions"] < pick["instructions"])
        if ge and gt:
            out.append(r)
    return out


def measure_frontier(dataset: str, board_name: str, work: Path, cache: Path, *, epochs: int | None, limit: int | None,
                     train_limit: int | None = None, budgets=BUDGETS, widths=WIDTHS, log=print) -> dict:
    from bench import adapters
    from pnetc import budget as pbudget
    from pnetc.datasets import load_dataset
    from pnetc.targets.boards import get_board
    from pnetc.training.student import train_mlp

    board = get_board(board_name)
    if work.exists():  # a fresh measurement: nothing of an earlier run is reused
        shutil.rmtree(work)
    ds = load_dataset(dataset)
    if train_limit:  # a subset of the training split, for the slow data sets (said in the output)
        ds.x_train, ds.y_train = ds.x_train[:train_limit], ds.y_train[:train_limit]
    if epochs is None:  # the epochs pnetc's budget search trains an MLP pick for
        epochs = pbudget.mlp_epochs(len(ds.y_train))
    x_test, y_test = np.asarray(ds.x_test), np.asarray(ds.y_test)
    if limit:
        x_test, y_test = x_test[:limit], y_test[:limit]
    baselines: dict = {}
    entry: dict = {"dataset": dataset, "board": board_name, "epochs": epochs, "samples": int(len(y_test)),
                   "train_samples": int(len(ds.y_train)), "baselines": [], "picks": []}
    for w in widths:
        log(f"{dataset}: emlearn MLP ({w},)")
        row = adapters.emlearn_row(ds, x_test, (w,), work / f"emlearn-{w}", cache, max_iter=epochs,
                                   key=f"emlearn-{w}", label=f"emlearn MLP {w}")
        if row.unavailable:
            raise PnetcError(row.unavailable)
        entry["baselines"].append(_measured(board, row, work / f"emlearn-{w}" / board_name, y_test, baselines))
        log(f"{dataset}: pnetc int8 MLP ({w},)")
        student = train_mlp(dataset, work / f"mlp-{w}" / "train", hidden=[w], epochs=epochs, subset=train_limit)
        row = adapters.pnetc_row(f"pnetc-mlp-{w}", f"pnetc int8 MLP {w}", Path(student["model"]), x_test,
                                 work / f"mlp-{w}", model=f"MLP {w}", precision="int8", float_input=True,
                                 calib=Path(student["calib"]))
        entry["baselines"].append(_measured(board, row, work / f"mlp-{w}" / board_name, y_test, baselines))
    for limit_bytes in budgets:
        log(f"{dataset}: pnetc train --board {board_name} --max-flash {limit_bytes}")
        found = pbudget.search(dataset, work / f"pick-{limit_bytes}", pbudget.Budget(board_name, max_flash=limit_bytes),
                               progress=False)
        if found.chosen is None:
            entry["picks"].append({"budget": limit_bytes, "label": "none fitted"})
            continue
        c = found.chosen
        calib = Path(c.model).with_name("calib.npz")
        row = adapters.pnetc_row(f"pick-{limit_bytes}", c.candidate.label(), Path(c.model), x_test,
                                 work / f"pick-{limit_bytes}" / "row", model=c.candidate.label(), precision="int8",
                                 float_input=c.candidate.family == "mlp",
                                 calib=calib if c.candidate.family == "mlp" else None)
        pick = _measured(board, row, work / f"pick-{limit_bytes}" / board_name, y_test, baselines)
        pick["budget"] = limit_bytes
        pick["dominated_by"] = [r["label"] for r in dominated_by(pick, entry["baselines"])]
        entry["picks"].append(pick)
    return entry


def markdown(entry: dict) -> str:
    lines = [f"#### {entry['dataset']} on {entry['board']} ({entry['samples']} test samples, "
             f"{entry['train_samples']} training samples, {entry['epochs']} epochs for the baselines)", "",
             "| row | device accuracy | model flash (B) | RAM (B) | instructions | dominated by |",
             "|---|---:|---:|---:|---:|---|"]
    for r in entry["baselines"]:
        lines.append(f"| {r['label']} | {100 * r['accuracy_device']:.2f} % | {r['flash_bytes']:,} | {r['ram_bytes']:,} "
                     f"| {r['instructions']:,.0f} | |")
    for p in entry["picks"]:
        if "accuracy_device" not in p:
            lines.append(f"| pick for {p['budget'] // 1024} KB: none fitted | | | | | |")
            continue
        lines.append(f"| **pick for {p['budget'] // 1024} KB**: {p['label']} | {100 * p['accuracy_device']:.2f} % | "
                     f"{p['flash_bytes']:,} | {p['ram_bytes']:,} | {p['instructions']:,.0f} | "
                     f"{', '.join(p['dominated_by']) or 'none'} |")
    return "\n".join(lines) + "\n"


def plot(entry: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.ticker
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, cost in ((axes[0], "flash_bytes"), (axes[1], "instructions")):
        for tool, marker in (("emlearn", "s"), ("pnetc", "o")):
            rows = [r for r in entry["baselines"] if r["tool"] == tool]
            ax.plot([r[cost] for r in rows], [100 * r["accuracy_device"] for r in rows], marker=marker, ls="-",
                    label="emlearn float MLPs" if tool == "emlearn" else "pnetc int8 MLPs")
        picks = [p for p in entry["picks"] if "accuracy_device" in p]
        ax.scatter([p[cost] for p in picks], [100 * p["accuracy_device"] for p in picks], s=90, c="r", marker="*",
                   label="pnetc train --max-flash picks", zorder=3)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels overlap
        ax.set_xlabel("model flash (bytes)" if cost == "flash_bytes" else "instructions per inference")
        ax.set_ylabel("device accuracy (%)")
        ax.legend(fontsize=7)
    fig.suptitle(f"{entry['dataset']} on {entry['board']}: budget picks against baseline MLPs", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(entry: dict, json_path: Path, img_dir: Path) -> tuple[Path, Path]:
    data = json.loads(json_path.read_text()) if json_path.exists() else {}
    data[entry["dataset"]] = entry
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    png = plot(entry, img_dir / f"frontier-{entry['dataset']}.png")
    md = json_path.with_suffix(".md")
    md.write_text("".join(markdown(e) + "\n" for e in data.values()))
    return md, png
