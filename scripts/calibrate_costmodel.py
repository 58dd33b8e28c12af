"""Regenerate pnetc/measure/costmodel.json: bench a grid of candidates on each board, fit the cost model.

    python scripts/calibrate_costmodel.py --board mps2-an386 [--board microbit] [--work DIR]
    python scripts/calibrate_costmodel.py --board mps2-an386 --stem   # add the stem terms only

Costs do not depend on how well a model is trained, so each candidate trains for one epoch. Every
fourth measurement is held out of the fit and the relative errors on it are stored beside the
coefficients; the final coefficients are then fitted on all measurements.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from pnetc import api
from pnetc.measure import costmodel
from pnetc.measure.costmodel import Candidate

# (dataset, features, classes): digits is 8x8 (N=64), fashion-mnist 28x28 (N=784)
SHAPES = {"digits": (64, 10), "fashion-mnist": (784, 10)}
IMAGES = {"digits": (8, 8), "fashion-mnist": (28, 28)}
# projection nets with a learned stem (--stem); `--stem` fits only their terms (costmodel.fit_stem)
STEM_GRID = [
    ("digits", dict(stem="dense:16", tables=8, bits_per_table=8, fc=())),
    ("digits", dict(stem="conv:4,8", tables=8, bits_per_table=8, fc=())),
    ("digits", dict(stem="conv:8", tables=16, bits_per_table=8, fc=(16,))),
    ("digits", dict(stem="dense:32", tables=16, bits_per_table=8, fc=(32,))),
    ("fashion-mnist", dict(stem="conv:8,16", tables=64, bits_per_table=16, fc=(48,))),
    ("fashion-mnist", dict(stem="conv:4,8", tables=32, bits_per_table=8, fc=())),
    ("fashion-mnist", dict(stem="dense:32", tables=32, bits_per_table=16, fc=())),
    ("fashion-mnist", dict(stem="conv:8,16", tables=32, bits_per_table=16, fc=())),
]
GRID = [
    ("digits", dict(tables=4, bits_per_table=8, fc=())),
    ("digits", dict(tables=8, bits_per_table=8, fc=(32,))),
    ("digits", dict(tables=16, bits_per_table=8, fc=())),
    ("digits", dict(tables=20, bits_per_table=8, fc=(128,))),
    ("digits", dict(tables=10, bits_per_table=8, fc=(16,))),
    ("digits", dict(tables=32, bits_per_table=8, fc=(64,))),
    ("digits", dict(tables=20, bits_per_table=8, fc=(32, 32))),
    ("digits", dict(tables=40, bits_per_table=8, fc=())),
    ("digits", dict(tables=16, bits_per_table=8, kind="ternary", density=0.3, fc=())),
    ("digits", dict(tables=20, bits_per_table=8, kind="ternary", density=0.1, fc=(64,))),
    ("digits", dict(tables=40, bits_per_table=8, kind="ternary", density=0.3, fc=(32,))),
    ("digits", dict(tables=8, bits_per_table=8, kind="ternary", density=0.5, fc=(16,))),
    ("digits", dict(family="mlp", fc=(16,))),
    ("digits", dict(family="mlp", fc=(64,))),
    ("digits", dict(family="mlp", fc=(32, 32))),
    ("digits", dict(family="mlp", fc=(128,))),
    ("fashion-mnist", dict(tables=60, bits_per_table=12, kind="ternary", density=0.03, fc=())),
    ("fashion-mnist", dict(tables=20, bits_per_table=8, fc=(32,))),
    ("fashion-mnist", dict(tables=30, bits_per_table=8, kind="ternary", density=0.05, fc=(64,))),
    ("fashion-mnist", dict(family="mlp", fc=(32,))),
]
FLOAT32_EVERY = 3  # also bench every third model in float32


def train_candidate(dataset: str, c: Candidate, out: Path) -> tuple[Path, Path | None]:
    if (out / "model.onnx").exists():  # trained by an earlier run with the same --work: costs only need the shape
        calib = out / "calib.npz"
        return out / "model.onnx", calib if calib.exists() else None
    if c.family == "mlp":
        from pnetc.training.student import train_mlp

        r = train_mlp(dataset, out, hidden=list(c.fc), epochs=1, subset=5000)
        return Path(r["model"]), Path(r["calib"])
    r = api.train(dataset, out, trainer="none", tables=c.tables, bits_per_table=c.bits_per_table, kind=c.kind,
                  density=c.density, fc=list(c.fc) or [0], epochs=1, force=True, progress=False, stem=c.stem)
    return r.model, None


def measure(board: str, c: Candidate, model: Path, calib: Path | None, dataset: str) -> dict:
    b = api.bench(model, board, n=3, dataset=dataset, precision=c.precision, calib=calib, progress=False)
    return {"candidate": c.to_dict(), "dataset": dataset, "flash_bytes": b.flash_bytes, "ram_bytes": b.ram_bytes,
            "instructions": round(b.instructions_per_inference), "mismatches": b.mismatches}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--board", action="append", required=True)
    p.add_argument("--work", type=Path, default=None, help="keep the trained candidates here")
    p.add_argument("--out", type=Path, default=costmodel.DATA_FILE)
    p.add_argument("--measurements", type=Path, default=None, help="reuse measurements (JSON) instead of benching")
    p.add_argument("--stem", action="store_true", help="bench the stem grid and fit only the stem terms")
    args = p.parse_args(argv)
    if args.stem:
        return add_stem_terms(args)
    work = args.work or Path(tempfile.mkdtemp(prefix="pnetc-costmodel-"))
    data = json.loads(args.out.read_text()) if args.out.exists() else {}
    data.setdefault("boards", {})
    command = "python scripts/calibrate_costmodel.py " + " ".join(f"--board {b}" for b in args.board)
    cached = json.loads(args.measurements.read_text()) if args.measurements else {}
    if isinstance(cached, list):  # one board's rows, as written to WORK/measurements-BOARD.json
        cached = {args.board[0]: cached}
    for board in args.board:
        rows = cached.get(board, [])
        if not rows:
            for i, (dataset, spec) in enumerate(GRID):
                features, classes = SHAPES[dataset]
                c = Candidate(features=features, classes=classes, **spec)
                model, calib = train_candidate(dataset, c, work / f"{i:02d}")
                precisions = ["int8", "float32"] if i % FLOAT32_EVERY == 0 else ["int8"]
                for precision in precisions:
                    cp = Candidate(**{**c.to_dict(), "fc": c.fc, "precision": precision})
                    rows.append(measure(board, cp, model, calib, dataset))
                    print(f"{board} {cp.label():40s} {rows[-1]}", file=sys.stderr, flush=True)
            (work / f"measurements-{board}.json").write_text(json.dumps(rows, indent=1))
        fit_on, held = costmodel.heldout_split(rows)
        heldout = costmodel.relative_errors(costmodel.fit(board, fit_on), held)
        cal = costmodel.fit(board, rows, command=command)
        data["boards"][board] = {"coefficients": cal.coefficients, "heldout": heldout,
                                 "fit": costmodel.relative_errors(cal, rows), "command": command,
                                 "measurements": rows}
        print(f"{board}: held-out relative error {json.dumps(heldout)}", file=sys.stderr)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    return 0


def add_stem_terms(args) -> int:
    """Bench STEM_GRID (int8) and fit the stem terms of each board's stored model (costmodel.fit_stem);
    half the stem benches are held out first to measure the error on models the fit did not see."""
    work = args.work or Path(tempfile.mkdtemp(prefix="pnetc-costmodel-stem-"))
    data = json.loads(args.out.read_text())
    cached = json.loads(args.measurements.read_text()) if args.measurements else None
    for board in args.board:
        rows = list(cached or [])  # --measurements: one board's stem rows, as written to WORK
        for i, (dataset, spec) in enumerate(STEM_GRID if not rows else []):
            features, classes = SHAPES[dataset]
            c = Candidate(features=features, classes=classes, shape=IMAGES[dataset], **spec)
            model, calib = train_candidate(dataset, c, work / f"stem{i:02d}")
            rows.append(measure(board, c, model, calib, dataset))
            print(f"{board} {c.label():48s} {rows[-1]}", file=sys.stderr, flush=True)
        work.mkdir(parents=True, exist_ok=True)
        (work / f"stem-measurements-{board}.json").write_text(json.dumps(rows, indent=1))
        base = costmodel.calibration(board)
        fit_on, held = costmodel.heldout_split(rows, every=2)
        heldout = costmodel.relative_errors(costmodel.fit_stem(base, fit_on), held)
        cal = costmodel.fit_stem(base, rows)
        entry = data["boards"][board]
        entry["coefficients"] = cal.coefficients
        entry["stem"] = {"heldout": heldout, "fit": costmodel.relative_errors(cal, rows), "measurements": rows,
                         "command": f"python scripts/calibrate_costmodel.py --board {board} --stem"}
        print(f"{board}: stem held-out relative error {json.dumps(heldout)}", file=sys.stderr)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
