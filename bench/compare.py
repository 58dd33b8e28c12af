"""`python -m bench`: pnetc against its peers, side by side, in one run; writes docs/benchmarks.md.

For each data set: find (or train, with `pnetc train`) the projection net and its trainer MLP,
build every row for every board with the same harness, compiler and flags, run the whole test
split once per row and board under QEMU with the instruction-count plugin, and collect accuracy,
flash, RAM and instructions. The raw numbers go to docs/benchmarks.json; the tables and charts
are rendered from them (bench/report.py), so `--report-only` redraws without measuring again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from pnetc.errors import PnetcError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATASETS = ("fashion-mnist", "digits")
DEFAULT_BOARDS = ("mps2-an386", "linux-aarch64")
SMALL_WIDTHS = (16, 32, 64, 128, 256)  # candidate hidden widths of the small emlearn MLP
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def install_peers() -> None:
    """The benchmark's own setup step: the peers come from PyPI, pinned in bench/requirements.txt."""
    cmd = [sys.executable, "-m", "pip", "install", "-r", str(REQUIREMENTS)]
    log(" ".join(cmd))
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise PnetcError(f"installing the peers failed (exit {proc.returncode}); see pip's output above")


def ensure_models(dataset: str, models_dir: Path, *, epochs: int | None = None) -> tuple[Path, Path]:
    """DIR/<dataset>/model.onnx and trainer.onnx, trained with `pnetc train` if either is missing."""
    out = models_dir / dataset
    model, trainer = out / "model.onnx", out / "trainer.onnx"
    if model.exists() and trainer.exists():
        return model, trainer
    cmd = [sys.executable, "-m", "pnetc", "train", "--dataset", dataset, "--out", str(out), "--json"]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    log(f"training {dataset}: {' '.join(cmd)}")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0 or not (model.exists() and trainer.exists()):
        raise PnetcError(f"`pnetc train --dataset {dataset}` failed (exit {proc.returncode}); "
                         f"it must write model.onnx and trainer.onnx to {out}")
    return model, trainer


def build_rows(dataset: str, ds, model: Path, trainer: Path, work: Path, cache: Path, *, limit: int | None,
               only: set[str] | None, sk_iter: int):
    from bench import adapters

    x_test, y_test = np.asarray(ds.x_test), np.asarray(ds.y_test)
    if limit:
        x_test, y_test = x_test[:limit], y_test[:limit]
    hidden = adapters.hidden_sizes(trainer)
    calib = adapters.write_calibration(work / "calib.npz", ds.x_train)
    makers = [
        ("pnetc-int8", lambda w: adapters.pnetc_row("pnetc-int8", "pnetc: projection net", model, x_test, w,
                                                    model="projection net", precision="int8")),
        ("pnetc-float32", lambda w: adapters.pnetc_row("pnetc-float32", "pnetc: projection net", model, x_test, w,
                                                       model="projection net", precision="float32")),
        ("pnetc-trainer-int8", lambda w: adapters.pnetc_row(
            "pnetc-trainer-int8", "pnetc: trainer MLP", trainer, x_test, w, model="trainer MLP (ONNX)",
            precision="int8", float_input=True, calib=calib)),
        ("pnetc-trainer-float32", lambda w: adapters.pnetc_row(
            "pnetc-trainer-float32", "pnetc: trainer MLP", trainer, x_test, w, model="trainer MLP (ONNX)",
            precision="float32", float_input=True)),
        ("emlearn-float32", lambda w: adapters.emlearn_row(ds, x_test, hidden, w, cache / dataset, max_iter=sk_iter)),
        ("emx-float32", lambda w: adapters.emx_row(trainer, x_test, w)),
        ("emlearn-small-float32", lambda w: adapters.emlearn_row(
            ds, x_test, SMALL_WIDTHS, w, cache / dataset, max_iter=sk_iter, key="emlearn-small-float32",
            label="emlearn: small sklearn MLP", y_test=y_test, match_accuracy=projection_accuracy(rows, y_test))),
    ]
    rows = []
    for key, make in makers:
        if only and key not in only:
            continue
        log(f"{dataset}: preparing {key}")
        try:
            rows.append(make(work / key))
        except PnetcError as exc:
            from bench.harness import Row

            rows.append(Row(key=key, label=key, tool=key.split("-")[0], model="", precision="",
                            unavailable=f"could not be prepared: {exc}"))
    return rows, y_test


def projection_accuracy(rows, y_test) -> float:
    """The int8 projection net's accuracy (its reference on the test split), the small peer's target."""
    ours = next((r for r in rows if r.key == "pnetc-int8" and r.reference is not None), None)
    if ours is None:
        raise PnetcError("the small emlearn row needs the pnetc-int8 row to size itself against")
    return float(np.mean(ours.reference == y_test))


def row_result(row, y_test) -> dict:
    out = {"key": row.key, "label": row.label, "tool": row.tool, "model": row.model, "precision": row.precision,
           "unavailable": row.unavailable, "notes": row.notes, "weight_bytes": row.weight_bytes,
           "macs": row.macs, "stage_macs": row.stage_macs, "reference_name": row.reference_name,
           "boards": {}}
    if row.reference is not None:
        out["accuracy_reference"] = float(np.mean(row.reference == y_test))
    return out


def measure_dataset(dataset: str, boards, args, results: dict) -> None:
    from bench import adapters
    from bench.harness import accuracy, measure_row
    from pnetc.datasets import load_dataset

    ds = load_dataset(dataset)
    model, trainer = ensure_models(dataset, args.models_dir, epochs=args.train_epochs)
    work = args.work / dataset
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    sk_iter = args.sklearn_epochs or (200 if len(ds.y_train) < 10_000 else 20)
    rows, y_test = build_rows(dataset, ds, model, trainer, work, args.cache, limit=args.limit,
                              only=set(args.rows) if args.rows else None, sk_iter=sk_iter)
    entry = {"dataset": dataset, "samples": int(len(y_test)), "rows": [],
             "emx_projection_net": adapters.emx_can_express(model, work / "emx-probe") or "compiles"}
    for row in rows:
        res = row_result(row, y_test)
        entry["rows"].append(res)
        if row.unavailable:
            log(f"{dataset}: {row.key}: {row.unavailable}")
            continue
        baselines: dict = results.setdefault("_baselines", {})
        for board in boards:
            log(f"{dataset}: {row.key} on {board.name} ({len(row.records)} samples)")
            try:
                m = measure_row(board, row, work / row.key / board.name, baselines=baselines)
            except PnetcError as exc:
                res["boards"][board.name] = {"error": str(exc).splitlines()[0][:300]}
                log(f"  failed: {exc}")
                continue
            d = m.to_dict()
            d["accuracy_device"] = accuracy(m.predictions, y_test)
            d["reference_disagreements"] = int(np.sum(m.predictions != row.reference))
            res["boards"][board.name] = d
            log(f"  acc {d['accuracy_device']:.4f} flash {d['flash_bytes']:,} ram {d['ram_bytes']:,} "
                f"instr {d['instructions_mean']:,.0f} ({m.host_seconds:.0f} s)")
    old = results["datasets"].get(dataset)
    if args.merge and args.rows and old:  # keep the rows this run did not measure
        fresh = {r["key"] for r in entry["rows"]}
        entry["rows"] = [r for r in old["rows"] if r["key"] not in fresh] + entry["rows"]
    results["datasets"][dataset] = entry


def measure_bits(args, results: dict, board: str) -> None:
    from bench import bits

    for dataset in [d for d in args.bits_datasets.split(",") if d]:
        grid, modes = bits.DEFAULT_GRIDS.get(dataset, bits.DEFAULT_GRIDS["fashion-mnist"]), bits.DEFAULT_MODES.get(
            dataset, "joint")
        out = args.sweep_dir / dataset
        bits.run_sweep(dataset, out, grid, modes, args.bits_epochs or bits.DEFAULT_EPOCHS.get(dataset))
        entry = bits.measure_sweep(dataset, out, board, args.work / "bits" / dataset)
        entry.update(grid=grid, modes=modes)
        results["bits"][dataset] = entry


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default=",".join(DEFAULT_DATASETS), help="comma-separated data sets")
    p.add_argument("--boards", default=",".join(DEFAULT_BOARDS), help="comma-separated boards (must run under QEMU)")
    p.add_argument("--rows", default="", help="comma-separated row keys (default: all)")
    p.add_argument("--models-dir", type=Path, default=REPO / "runs" / "bench-models",
                   help="holds <dataset>/model.onnx and trainer.onnx; missing ones are trained here")
    p.add_argument("--cache", type=Path, default=None, help="peer models (sklearn MLPs); default MODELS_DIR/peers")
    p.add_argument("--work", type=Path, default=REPO / "runs" / "bench-work", help="build and run directory")
    p.add_argument("--limit", type=int, default=None, help="first N test samples only (default: the whole split)")
    p.add_argument("--train-epochs", type=int, default=None, help="epochs for models that must be trained")
    p.add_argument("--sklearn-epochs", type=int, default=None,
                   help="max_iter of the sklearn MLPs (default: 200 below 10,000 training samples, else 20)")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--json", type=Path, default=None, help="raw results (default: next to --out, .json)")
    p.add_argument("--img-dir", type=Path, default=None, help="charts (default: docs/img next to --out)")
    p.add_argument("--install-peers", action="store_true", help="pip install bench/requirements.txt first")
    p.add_argument("--parts", default="peers,bits", help="peers (the side-by-side table), bits (how many neural bits), "
                                                         "frontier (budget picks against baseline MLPs)")
    p.add_argument("--frontier-datasets", default="digits", help="data sets of the frontier part")
    p.add_argument("--frontier-epochs", type=int, default=None,
                   help="epochs of the frontier's baseline MLPs (default: those pnetc trains an MLP pick for)")
    p.add_argument("--frontier-train-limit", type=int, default=None,
                   help="frontier part: the first N training samples only (for slow data sets)")
    p.add_argument("--bits-datasets", default="fashion-mnist,langid", help="data sets of the how-many-bits sweep")
    p.add_argument("--sweep-dir", type=Path, default=None, help="pnetc sweep outputs (default MODELS_DIR/sweeps)")
    p.add_argument("--bits-epochs", type=int, default=None,
                   help="epochs per sweep run (default: 5 for fashion-mnist, 2 for langid)")
    p.add_argument("--merge", action="store_true",
                   help="keep the data sets and parts of the existing --json that this run does not measure")
    p.add_argument("--report-only", action="store_true", help="redraw the tables and charts from --json")
    args = p.parse_args(argv)
    args.cache = args.cache or args.models_dir / "peers"
    args.sweep_dir = args.sweep_dir or args.models_dir / "sweeps"
    parts = {x for x in args.parts.split(",") if x}
    known_parts = {"peers", "bits", "frontier"}
    if parts - known_parts:
        raise SystemExit(f"python -m bench: --parts takes peers, bits and/or frontier, not "
                         f"{', '.join(parts - known_parts)}")
    json_path = args.json or args.out.with_suffix(".json")
    img_dir = args.img_dir or args.out.parent / "img"
    args.rows = [r for r in args.rows.split(",") if r]
    try:
        from bench import report

        if parts == {"frontier"} and not args.report_only:
            measure_frontier(args, img_dir)
            return 0
        if args.report_only:
            if not json_path.exists():
                raise PnetcError(f"{json_path} does not exist: measure first (python -m bench) or pass --json FILE")
            results = json.loads(json_path.read_text())
        else:
            if args.install_peers:
                install_peers()
            from bench.adapters import peer_versions
            from pnetc.measure.plugin import build_plugin
            from pnetc.targets.boards import get_board

            boards = [get_board(b) for b in args.boards.split(",") if b]
            for b in boards:
                if not b.can_run:
                    raise PnetcError(f"board {b.name} cannot run here ({', '.join(b.missing_tools()) or 'build-only'})")
            build_plugin()
            old = json.loads(json_path.read_text()) if args.merge and json_path.exists() else {}
            results = {"boards": [b.name for b in boards], "versions": peer_versions(),
                       "datasets": dict(old.get("datasets", {})), "bits": dict(old.get("bits", {})),
                       "compilers": compiler_versions(boards),
                       "runs": [*old.get("runs", []), {"parts": sorted(parts), "command": command_line(argv),
                                                       "commit": git_commit(),
                                                       "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}]}
            if "peers" in parts:
                for dataset in [d for d in args.datasets.split(",") if d]:
                    measure_dataset(dataset, boards, args, results)
            results.pop("_baselines", None)
            if "bits" in parts:
                measure_bits(args, results, boards[0].name if boards else "mps2-an386")
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(results, indent=1) + "\n")
        report.write_report(results, args.out, img_dir)
        log(f"wrote {args.out} and charts in {img_dir}")
        return 0
    except PnetcError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        return 1


def measure_frontier(args, img_dir: Path) -> None:
    """docs/frontier.json and .md (beside --out) and img/frontier-<dataset>.png, on the first board."""
    from bench import frontier
    from pnetc.measure.plugin import build_plugin

    build_plugin()
    board = [b for b in args.boards.split(",") if b][0]
    for dataset in [d for d in args.frontier_datasets.split(",") if d]:
        entry = frontier.measure_frontier(dataset, board, args.work / "frontier" / dataset, args.cache / dataset,
                                          epochs=args.frontier_epochs, limit=args.limit,
                                          train_limit=args.frontier_train_limit, log=log)
        entry["command"] = command_line(None)
        md, png = frontier.write(entry, args.out.with_name("frontier.json"), img_dir)
        log(f"wrote {md} and {png}")


def compiler_versions(boards) -> dict[str, str]:
    out = {}
    for b in boards:
        try:
            proc = subprocess.run([b.tool("gcc"), "--version"], capture_output=True, text=True)
            out[b.name] = proc.stdout.splitlines()[0] if proc.stdout else ""
        except OSError:
            out[b.name] = ""
    return out


def git_commit() -> str:
    """The repository's commit (with '+changes' when the work tree differs), for the record."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True)
    except OSError:
        return ""
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def command_line(argv) -> str:
    """The command as run, with this machine's absolute paths replaced by placeholders."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python -m bench", *("DIR" if os.path.isabs(a) else a for a in args)])
