"""The ProjectionNet paper's table on Fashion-MNIST and digits: `python -m bench.results`.

Writes docs/results.md (and docs/results.csv, the numbers behind it). Three steps, each
incremental:

1. Train: one `pnetc sweep` per paper configuration and data set into CACHE/<dataset>/ (joint and
   alone, plus the trainer trained alone). `pnetc sweep` skips every run its sweep.csv already
   holds, so a rerun trains nothing new.
2. Measure every projection net in int8 on a board: `pnetc build` (flash = the size delta against a
   no-model build) and `pnetc run` on the whole test split (device accuracy; bits, int8 scores and
   predictions compared with the golden interpreter). `--host` uses `pnetc verify` (the generated C
   built for this machine) instead of the board. Results are cached in CACHE/<dataset>/measure.json
   by the model's SHA-256.
3. Render docs/results.md from the CSVs and the measurements (`--report-only` does only this).

This module imports no torch: training runs in `pnetc sweep` subprocesses.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# (T, d, FC hidden widths) as in Ravi (2017), table 1
PAPER_CONFIGS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (8, 10, ()), (10, 12, ()), (60, 10, ()), (60, 12, ()),
    (60, 10, (128,)), (60, 12, (256,)), (70, 12, (256,)),
)
# The paper's MNIST figures, quoted from memory and not verified: (accuracy %, compression x)
PAPER_MNIST_TRAINER = 98.9
PAPER_MNIST = {(60, 12, ()): (92.3, 388), (70, 12, (256,)): (97.1, 13)}
DATASETS = ("fashion-mnist", "digits")
# Same epochs for every run of a data set: the `pnetc train` default of each
EPOCHS = {"fashion-mnist": 15, "digits": 40}
TEST_SAMPLES = {"fashion-mnist": 10000, "digits": 359}
# Repeats with other seeds (projection, initial weights and data order all change), training only: how large
# run-to-run differences are, and whether joint - alone keeps its sign across seeds
SEED_REPEATS = {"digits": ((1, 2), PAPER_CONFIGS), "fashion-mnist": ((1,), ((60, 12, ()),))}
NEGLIGIBLE_POINTS = 0.1  # a mean joint - alone difference below this is called negligible, whatever its sign
DEFAULT_BOARD = "mps2-an386"
DEFAULT_CACHE = Path("runs/results")
DEFAULT_OUT = Path("docs/results.md")
# Sections measured by hand (the text runs) follow this line in results.md and survive a rerun.
HAND_MEASURED = "<!-- measured by hand, kept by python -m bench.results -->"
COMMAND = "python -m bench.results"


def log(msg: str) -> None:
    print(f"[results {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fc_text(fc: tuple[int, ...]) -> str:
    return "-".join(map(str, fc)) if fc else "0"


def config_name(T: int, d: int, fc: tuple[int, ...]) -> str:
    return f"[T={T},d={d}]" + (f"+FC[{','.join(map(str, fc))}]" if fc else "")


# ---------------------------------------------------------------------------
# 1. Train (pnetc sweep, resumable)
# ---------------------------------------------------------------------------


def grid_of(T: int, d: int, fc: tuple[int, ...]) -> str:
    return f"T={T} d={d} fc={fc_text(fc)}"


def train(dataset: str, sweep_dir: Path, epochs: int, seed: int = 0,
          configs: tuple[tuple[int, int, tuple[int, ...]], ...] = PAPER_CONFIGS) -> None:
    done = {(r["T"], r["d"], r["fc"], r["mode"]) for r in read_sweep(sweep_dir / "sweep.csv") if r["epochs"] == epochs}
    for T, d, fc in configs:
        if {(T, d, fc_text(fc), m) for m in ("joint", "alone")} | {(None, None, None, "trainer")} <= done:
            continue  # already in sweep.csv (pnetc sweep would skip it too, after loading torch and the data)
        cmd = [sys.executable, "-m", "pnetc", "sweep", "--dataset", dataset, "--out", str(sweep_dir),
               "--epochs", str(epochs), "--seed", str(seed), "--grid", grid_of(T, d, fc), "--json"]
        log(" ".join(cmd[2:]))
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"pnetc sweep failed (exit {proc.returncode}) for {dataset} {grid_of(T, d, fc)}")


def read_sweep(path: Path) -> list[dict]:
    """sweep.csv rows with numbers typed ('' -> None)."""
    from pnetc.training.sweep import read_typed_rows

    return read_typed_rows(path)


# ---------------------------------------------------------------------------
# 2. Measure (pnetc build + pnetc run, or pnetc verify), cached by model hash
# ---------------------------------------------------------------------------


def _last_json(stdout: str) -> dict | None:
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measure_model(model: Path, dataset: str, board: str, host: bool, work: Path) -> dict:
    """int8 flash on the board and the int8 accuracy of the C code on the whole test split."""
    pnetc = [sys.executable, "-m", "pnetc"]
    started = time.monotonic()
    build = subprocess.run(pnetc + ["build", str(model), "--board", board, "-o", str(work / "fw"), "--json"],
                           stdout=subprocess.PIPE, text=True)
    b = _last_json(build.stdout) or {}
    m = {"board": board, "flash_bytes": b.get("flash_bytes"), "flash_code_bytes": b.get("flash_code_bytes"),
         "flash_weight_bytes": b.get("flash_weight_bytes"), "ram_bytes": b.get("ram_bytes")}
    if host:
        proc = subprocess.run(pnetc + ["verify", str(model), "--dataset", dataset, "--json"],
                              stdout=subprocess.PIPE, text=True)
        r = _last_json(proc.stdout) or {}
        m.update(source="host C (pnetc verify)", samples=r.get("samples"), mismatches=r.get("mismatches"),
                 accuracy_c=r.get("accuracy_c"), accuracy_reference=r.get("accuracy_reference"))
    else:
        proc = subprocess.run(pnetc + ["run", str(model), "--board", board, "--dataset", dataset, "--json"],
                              stdout=subprocess.PIPE, text=True)
        r = _last_json(proc.stdout) or {}
        m.update(source=f"device ({board})", samples=r.get("samples"), mismatches=r.get("mismatches"),
                 accuracy_c=r.get("accuracy_device"), accuracy_reference=r.get("accuracy_reference"),
                 status=r.get("status"))
    m["exit"] = proc.returncode
    m["seconds"] = round(time.monotonic() - started, 1)
    return m


def measure(dataset: str, sweep_dir: Path, rows: list[dict], board: str, host: bool) -> dict:
    """{model path (relative to the sweep dir): measurement}; cached in measure.json by SHA-256."""
    cache_path = sweep_dir / "measure.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    work = sweep_dir / "measure-work"
    for r in rows:
        if r["mode"] not in ("joint", "alone") or not r.get("model"):
            continue
        model = sweep_dir / r["model"]
        if not model.is_file():
            continue
        sha = _sha256(model)
        want_source = "host" if host else "device"
        old = cache.get(r["model"])
        if old and old.get("sha256") == sha and old.get("board") == board and old["source"].startswith(want_source) \
                and old.get("exit") == 0:
            continue
        log(f"{dataset} {r['model']}: build and {'verify' if host else 'run'} on the whole test split")
        m = measure_model(model, dataset, board, host, work)
        m["sha256"] = sha
        cache[r["model"]] = m
        log(f"  flash {m['flash_bytes']}, accuracy {m['accuracy_c']}, mismatches {m['mismatches']}, {m['seconds']} s")
        cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    return cache


# ---------------------------------------------------------------------------
# 3. Render
# ---------------------------------------------------------------------------


@dataclass
class Entry:
    """One paper configuration on one data set: its joint and alone rows (None if not trained)."""

    T: int
    d: int
    fc: tuple[int, ...]
    joint: dict | None
    alone: dict | None

    @property
    def name(self) -> str:
        return config_name(self.T, self.d, self.fc)

    @property
    def any(self) -> dict | None:
        return self.joint or self.alone


def entries(rows: list[dict]) -> tuple[dict | None, list[Entry]]:
    """(the trainer-alone row, one Entry per paper configuration, in the paper's order)."""
    trainer = next((r for r in rows if r["mode"] == "trainer"), None)
    by_key = {(r["T"], r["d"], r["fc"], r["mode"]): r for r in rows if r["mode"] in ("joint", "alone")}
    out = []
    for T, d, fc in PAPER_CONFIGS:
        out.append(Entry(T, d, fc, by_key.get((T, d, fc_text(fc), "joint")), by_key.get((T, d, fc_text(fc), "alone"))))
    return trainer, out


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}"


def _int(x) -> str:
    return "–" if x is None else f"{x:,}"


def _ratio(num, den) -> str:
    return "–" if not num or not den else f"{num / den:,.0f}×" if num / den >= 10 else f"{num / den:.1f}×"


def _delta_points(e: Entry) -> float | None:
    if not e.joint or not e.alone or e.joint["accuracy"] is None or e.alone["accuracy"] is None:
        return None
    return 100 * (e.joint["accuracy"] - e.alone["accuracy"])


def _signed(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:+.{digits}f}"


def _device(meas: dict, row: dict | None) -> str:
    m = meas.get(row["model"]) if row else None
    if not m or m.get("accuracy_c") is None:
        return "–"
    bad = m.get("mismatches")
    return _pct(m["accuracy_c"]) + ("" if bad == 0 else f" ({bad} mismatches!)")


def main_table(dataset: str, rows: list[dict], meas: dict) -> list[str]:
    trainer, ents = entries(rows)
    tb = trainer["weight_bytes"] if trainer else None
    lines = [
        "| configuration | bits | weight bytes (float32) | compression vs trainer | int8 flash, bytes (code + weights) "
        "| trainer float32 / int8 flash | accuracy joint | accuracy alone | trainer (co-trained in the joint run) "
        "| C int8 accuracy joint / alone |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    if trainer:
        lines.append(f"| trainer {trainer['trainer']}, alone | – | {_int(tb)} | 1× | – | – | – | – "
                     f"| {_pct(trainer['accuracy'])} | – |")
    for e in ents:
        r = e.any
        if r is None:
            lines.append(f"| {e.name} | {e.T * e.d} | not trained yet | | | | | | | |")
            continue
        m = meas.get((e.joint or e.alone)["model"]) or meas.get((e.alone or e.joint)["model"]) or {}
        flash = "–" if not m.get("flash_bytes") else \
            f"{m['flash_bytes']:,} ({m['flash_code_bytes']:,} + {m['flash_weight_bytes']:,})"
        lines.append(
            f"| {e.name} | {r['bits']} | {_int(r['weight_bytes'])} | {_ratio(tb, r['weight_bytes'])} | {flash} "
            f"| {_ratio(tb, m.get('flash_bytes'))} "
            f"| {_pct(e.joint and e.joint['accuracy'])} | {_pct(e.alone and e.alone['accuracy'])} "
            f"| {_pct(e.joint and e.joint['trainer_accuracy'])} | {_device(meas, e.joint)} / {_device(meas, e.alone)} |")
    return lines


def paper_table(data: dict[str, tuple[list[dict], dict]]) -> list[str]:
    """The paper's MNIST figures next to ours, as ratios to each trainer."""
    cols = [ds for ds in DATASETS if ds in data]
    head = "| configuration | MNIST (paper, reported from memory, not verified): accuracy, ratio to trainer, compression |"
    for ds in cols:
        head += f" {ds} (ours, joint): accuracy, ratio to trainer, compression |"
    lines = [head, "|---|---|" + "---|" * len(cols)]
    row = f"| trainer | {PAPER_MNIST_TRAINER:.1f} %, 1, – |"
    for ds in cols:
        trainer, _ = entries(data[ds][0])
        row += f" {_pct(trainer and trainer['accuracy'])} %, 1, – |"
    lines.append(row)
    trainers = {ds: entries(data[ds][0])[0] for ds in cols}
    for T, d, fc in PAPER_CONFIGS:
        paper = PAPER_MNIST.get((T, d, fc))
        row = f"| {config_name(T, d, fc)} | "
        row += (f"{paper[0]:.1f} %, {paper[0] / PAPER_MNIST_TRAINER:.3f}, ~{paper[1]}× |" if paper else "– |")
        for ds in cols:
            trainer = trainers[ds]
            e = next(e for e in entries(data[ds][0])[1] if (e.T, e.d, e.fc) == (T, d, fc))
            r = e.joint
            if r is None or trainer is None or r["accuracy"] is None:
                row += " – |"
                continue
            row += (f" {_pct(r['accuracy'])} %, {r['accuracy'] / trainer['accuracy']:.3f}, "
                    f"{_ratio(trainer['weight_bytes'], r['weight_bytes'])} |")
        lines.append(row)
    return lines


def paper_notes(data: dict[str, tuple[list[dict], dict]]) -> list[str]:
    """The two configurations the paper's figures cover, side by side in words, from the numbers."""
    lines = []
    for (T, d, fc), (acc, comp) in PAPER_MNIST.items():
        ours = []
        for ds in DATASETS:
            if ds not in data:
                continue
            trainer, ents = entries(data[ds][0])
            e = next(e for e in ents if (e.T, e.d, e.fc) == (T, d, fc))
            if e.joint and trainer and e.joint["accuracy"] is not None:
                ours.append(f"{ds} {e.joint['accuracy'] / trainer['accuracy']:.3f} at "
                            f"{_ratio(trainer['weight_bytes'], e.joint['weight_bytes'])}")
        if ours:
            lines.append(f"* {config_name(T, d, fc)}: the paper keeps {acc / PAPER_MNIST_TRAINER:.3f} of its "
                         f"trainer's accuracy at ~{comp}×; ours keep " + "; ".join(ours) + ".")
    if lines:
        lines.append("* Accuracy relative to the trainer follows the paper's pattern (more bits, then a hidden "
                     "layer, close most of the gap). Compression does not: our trainer is a small MLP, and a "
                     "256-unit layer over 720-840 bits has about as many weights as the whole trainer, so the "
                     "FC[256] nets are barely smaller than the Fashion-MNIST trainer in float32 bytes (and larger "
                     "than the digits trainer). In int8 flash they take about a fifth of the Fashion-MNIST "
                     "trainer's float32 weight bytes (see the data set tables)." + _linear_range(data))
    return lines


def _linear_range(data: dict[str, tuple[list[dict], dict]]) -> str:
    ratios = []
    for ds, (rows, _) in data.items():
        trainer, ents = entries(rows)
        ratios += [trainer["weight_bytes"] / e.any["weight_bytes"] for e in ents
                   if trainer and e.any and not e.fc and e.any["weight_bytes"]]
    return f" The linear nets are {min(ratios):.0f}-{max(ratios):.0f}× smaller in float32." if ratios else ""


def ablation_summary(ents: list[Entry], samples: int) -> dict:
    deltas = [x for x in (_delta_points(e) for e in ents) if x is not None]
    if not deltas:
        return {"n": 0}
    return {"n": len(deltas), "wins": sum(x > 1e-9 for x in deltas), "losses": sum(x < -1e-9 for x in deltas),
            "ties": sum(abs(x) <= 1e-9 for x in deltas), "mean": sum(deltas) / len(deltas),
            "min": min(deltas), "max": max(deltas), "one_sample": 100 / samples}


def ablation_table(data: dict[str, tuple[list[dict], dict]]) -> list[str]:
    lines = ["| data set | configuration | joint | alone | joint − alone (points) | (test samples) "
             "| C int8 joint | C int8 alone |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for ds in DATASETS:
        if ds not in data:
            continue
        rows, meas = data[ds]
        _, ents = entries(rows)
        n = TEST_SAMPLES.get(ds)
        for e in ents:
            dp = _delta_points(e)
            ns = "–" if dp is None or not n else f"{round(dp * n / 100):+d}"
            lines.append(f"| {ds} | {e.name} | {_pct(e.joint and e.joint['accuracy'])} "
                         f"| {_pct(e.alone and e.alone['accuracy'])} | {_signed(dp)} | {ns} "
                         f"| {_device(meas, e.joint)} | {_device(meas, e.alone)} |")
    return lines


def _same_trainer_note(data: dict[str, tuple[list[dict], dict]]) -> str:
    same = []
    for ds, (rows, _) in data.items():
        trainer = entries(rows)[0]
        joint = [r for r in rows if r["mode"] == "joint"]
        same.append(bool(trainer and joint and all(r["trainer_accuracy"] == trainer["accuracy"] for r in joint)))
    return " (here it reaches exactly the trainer-alone accuracy in every joint run)" if same and all(same) else ""


def _settings(rows: list[dict]) -> dict:
    r = next((r for r in rows if r["mode"] in ("joint", "alone")), rows[0] if rows else {})
    return {k: r.get(k) for k in ("trainer", "kind", "density", "epochs", "seed", "lambdas", "temperature")}


def _sources(meas: dict) -> str:
    srcs = sorted({m["source"] for m in meas.values() if m.get("source")})
    return ", ".join(srcs) if srcs else "not measured yet"


def render(data: dict[str, tuple[list[dict], dict]], *, board: str = DEFAULT_BOARD,
           seeds: dict[str, dict[int, list[dict]]] | None = None) -> str:
    """docs/results.md from {dataset: (sweep rows, measurements by model path)}."""
    seeds = seeds or {ds: {0: data[ds][0]} for ds in data}
    train_min = sum(r["seconds"] or 0 for v in seeds.values() for rows in v.values() for r in rows) / 60
    meas_min = sum(m.get("seconds") or 0 for _, meas in data.values() for m in meas.values()) / 60
    out = ["# Results: the ProjectionNet paper's table on Fashion-MNIST and digits", "",
           f"Regenerate with `{COMMAND}` (from scratch: {train_min:.0f} min in training runs and {meas_min:.0f} min of "
           "building and running on a 2-core machine shared with other jobs; a rerun trains and "
           "measures only what is missing). It runs one `pnetc sweep` per configuration and data set into "
           f"`runs/results/<dataset>/` (`--cache` to change) and the seed repeats into "
           f"`runs/results/<dataset>-seed<k>/`, then `pnetc build` and `pnetc run --board {board}` "
           "for every projection net, then writes this file and `docs/results.csv`. `--report-only` redraws "
           "from the cache.", ""]
    out += ["## Setup", ""]
    for ds in DATASETS:
        if ds not in data:
            continue
        rows, meas = data[ds]
        s = _settings(rows)
        trainer, _ = entries(rows)
        secs = sum(r["seconds"] or 0 for r in rows)
        density = f", density {s['density']:g}" if s.get("density") else ""
        out.append(f"* **{ds}** ({TEST_SAMPLES.get(ds, '?'):,} test samples): trainer {s['trainer']} "
                   f"({_int(trainer and trainer['weight_bytes'])} float32 weight bytes), {s['kind']} projection"
                   f"{density}, **{s['epochs']} epochs for every run**, seed {s['seed']}, joint λ = {s['lambdas']} "
                   f"(λ1 trainer CE / λ2 distillation / λ3 projection CE), temperature {s['temperature']:g}. "
                   f"{len(rows)} runs, {secs / 60:.1f} min of training. "
                   f"C int8 accuracy: {_sources(meas)}, whole test split.")
    out += ["",
            "* *joint*: the ProjectionNet joint loss (trainer and projection net trained together, the projection "
            "net also learning the trainer's soft targets); *alone*: the projection net trained on the labels only "
            "(`--projection-only`). Same seed, so the same projection bits. The soft targets are detached, "
            "so the student does not pull the co-trained trainer" + _same_trainer_note(data) + ".",
            "* *weight bytes*: float32 weights + biases of the projection net; the projection itself is hashed "
            "on the fly and stores nothing. *compression* = the trainer's float32 weight bytes / the projection "
            "net's float32 weight bytes, as in the paper.",
            f"* *int8 flash*: the model's share of the {board} firmware (`pnetc build`, size delta against a "
            "no-model build): generated code + int8 weight tables. Joint and alone nets of a configuration have "
            "the same shape, hence the same flash.",
            "* *C int8 accuracy*: the compiled int8 C model on every test sample; every sample's bits, int8 "
            "scores and prediction were compared with the golden interpreter (a mismatch would be flagged in "
            "the cell).", ""]
    for ds in DATASETS:
        if ds not in data:
            continue
        out += [f"## {ds}", ""] + main_table(ds, *data[ds]) + [""]
    out += ["## Against the paper's MNIST figures", "",
            "The paper (Ravi 2017) reports MNIST, which is not available here. Its figures below are "
            "**reported, from memory, not verified**. Fashion-MNIST is much harder than MNIST, so compare the "
            "ratios to each trainer, not absolute accuracies. Our compression is measured against our own "
            "trainer's float32 weight bytes; which baseline network and which byte count the paper's compression "
            "refers to we cannot check, so its ratios are not directly comparable with ours.", ""]
    out += paper_table(data) + [""] + paper_notes(data) + [""]
    out += ["## Ablation: joint (with distillation) vs alone", "",
            "The same runs as above. Accuracies in %; the last two columns are the compiled int8 C models.", ""]
    out += ablation_table(data) + [""]
    if any(len(v) > 1 for v in seeds.values()):
        out += ["### The same with other seeds", "",
                "Training only (float accuracy on the test split), to see how large run-to-run differences are: a "
                "seed changes the projection, the initial weights and the data order. Seed 0 is the table above.", ""]
        out += seed_table(seeds) + [""]
    out += discussion(data, seeds)
    return "\n".join(out).rstrip() + "\n"


def seed_pairs(rows_by_seed: dict[int, list[dict]]) -> list[tuple[int, Entry]]:
    """(seed, Entry) for every configuration trained both ways at that seed."""
    out = []
    for seed in sorted(rows_by_seed):
        for e in entries(rows_by_seed[seed])[1]:
            if _delta_points(e) is not None:
                out.append((seed, e))
    return out


def seed_table(seeds: dict[str, dict[int, list[dict]]]) -> list[str]:
    lines = ["| data set | configuration | seed | trainer alone | joint | alone | joint − alone (points) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for ds in DATASETS:
        if ds not in seeds:
            continue
        pairs = seed_pairs(seeds[ds])
        for seed, e in sorted(pairs, key=lambda p: (PAPER_CONFIGS.index((p[1].T, p[1].d, p[1].fc)), p[0])):
            trainer = entries(seeds[ds][seed])[0]
            lines.append(f"| {ds} | {e.name} | {seed} | {_pct(trainer and trainer['accuracy'])} "
                         f"| {_pct(e.joint['accuracy'])} | {_pct(e.alone['accuracy'])} | {_signed(_delta_points(e))} |")
    return lines


def seed_summary(rows_by_seed: dict[int, list[dict]]) -> dict:
    """Joint - alone over every (configuration, seed) pair, and the run-to-run spread of 'alone' (max - min over
    seeds, points, averaged over the configurations run with more than one seed)."""
    pairs = seed_pairs(rows_by_seed)
    deltas = [_delta_points(e) for _, e in pairs]
    by_config: dict[tuple, list[float]] = {}
    for _, e in pairs:
        by_config.setdefault((e.T, e.d, e.fc), []).append(100 * e.alone["accuracy"])
    spreads = [max(v) - min(v) for v in by_config.values() if len(v) > 1]
    if not deltas:
        return {"n": 0}
    return {"n": len(deltas), "wins": sum(x > 1e-9 for x in deltas), "losses": sum(x < -1e-9 for x in deltas),
            "ties": sum(abs(x) <= 1e-9 for x in deltas), "mean": sum(deltas) / len(deltas),
            "min": min(deltas), "max": max(deltas), "seeds": len({seed for seed, _ in pairs}),
            "spread": sum(spreads) / len(spreads) if spreads else None, "spread_configs": len(spreads)}


def verdict(s: dict) -> str:
    """A sentence that follows the numbers: consistent help / harm, or no consistent effect."""
    decided = s["wins"] + s["losses"]
    small = abs(s["mean"]) < NEGLIGIBLE_POINTS
    if decided >= 3 and s["mean"] > 0 and s["wins"] >= 0.8 * decided:
        return (f"a consistent but negligible gain from distillation ({s['mean']:+.2f} points on average, under "
                f"{NEGLIGIBLE_POINTS} points)" if small else
                f"distillation helped consistently, by {s['mean']:+.2f} points on average")
    if decided >= 3 and s["mean"] < 0 and s["losses"] >= 0.8 * decided:
        return (f"a consistent but negligible loss from distillation ({s['mean']:+.2f} points on average, under "
                f"{NEGLIGIBLE_POINTS} points)" if small else
                f"distillation hurt consistently, by {s['mean']:+.2f} points on average")
    return (f"no consistent effect: the sign changes from run to run and the mean is {_z(s['mean']):+.2f} points")


def _n(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "es" if word.endswith("s") else "s")


def _z(x: float) -> float:
    return 0.0 if abs(x) < 0.005 else x


def discussion(data: dict[str, tuple[list[dict], dict]], seeds: dict[str, dict[int, list[dict]]]) -> list[str]:
    lines = ["### Did distillation help?", ""]
    lam = temp = None
    for ds in DATASETS:
        if ds not in data:
            continue
        rows, _ = data[ds]
        st = _settings(rows)
        lam, temp = st.get("lambdas"), st.get("temperature")
        s = ablation_summary(entries(rows)[1], TEST_SAMPLES.get(ds, 1))
        if not s["n"]:
            lines.append(f"* {ds}: no configuration has both runs yet.")
            continue
        far = round(max(abs(s["min"]), abs(s["max"])) / s["one_sample"])
        text = (f"* **{ds}**, seed 0: joint beats alone in {s['wins']} of {s['n']} configurations, loses in "
                f"{s['losses']}, ties in {s['ties']}; mean {_z(s['mean']):+.2f} points (from {s['min']:+.2f} to "
                f"{s['max']:+.2f}); one test sample is {s['one_sample']:.2f} points, so joint and alone are at most "
                f"{far} test sample{'s' if far != 1 else ''} apart.")
        allseeds = seed_summary(seeds.get(ds) or {0: rows})
        if allseeds["n"] and allseeds["seeds"] > 1:
            text += (f" Over all {allseeds['n']} (configuration, seed) pairs of {allseeds['seeds']} seeds: "
                     f"{_n(allseeds['wins'], 'win')}, {_n(allseeds['losses'], 'loss')}, "
                     f"{_n(allseeds['ties'], 'tie')}, mean "
                     f"{_z(allseeds['mean']):+.2f} points.")
            if allseeds["spread"] is not None:
                text += (f" For comparison, the projection net alone moves by {allseeds['spread']:.2f} points on "
                         f"average between seeds (max − min, {allseeds['spread_configs']} configuration"
                         f"{'s' if allseeds['spread_configs'] > 1 else ''}).")
        else:
            allseeds = s
        text += f" Verdict: {verdict(allseeds)}."
        lines.append(text)
    lines += [
        "",
        f"Settings: λ = {lam} (trainer CE / distillation / projection CE), temperature {temp:g}: the "
        "distillation term is a small pull next to the label loss, and the soft targets are detached, so "
        "the trainer is not pulled towards the student. Joint and alone nets see the same projection bits. "
        "For scale, the binomial standard error of one test accuracy is about 0.3 points on Fashion-MNIST "
        "(10,000 samples) and about 1 point on digits (359 samples). "
        "docs/training.md and docs/sweep.md tried a stronger pull (λ 1/1/1, temperature 2 on Fashion-MNIST; "
        "temperature 4 on digits) without gain.",
    ]
    for ds in DATASETS:
        if ds not in data:
            continue
        trainer, ents = entries(data[ds][0])
        best = max((e.alone for e in ents if e.alone and e.alone["accuracy"] is not None),
                   key=lambda r: r["accuracy"], default=None)
        if trainer is None or best is None:
            continue
        gap = 100 * (trainer["accuracy"] - best["accuracy"])
        name = config_name(best["T"], best["d"], tuple(int(w) for w in best["fc"].split("-")) if best["fc"] != "0" else ())
        if gap <= 0:
            lines[-1] += (f" On {ds} the best net trained alone ({name}, {_pct(best['accuracy'])}) already matches "
                          f"or beats its trainer ({_pct(trainer['accuracy'])}), so the trainer has little to teach.")
        else:
            lines[-1] += (f" On {ds} the best net trained alone ({name}, {_pct(best['accuracy'])}) is {gap:.2f} "
                          f"points below its trainer ({_pct(trainer['accuracy'])}): what narrows that gap in the "
                          "table is more bits and a hidden layer, not the distillation term.")
    return lines


def write_csv(path: Path, data: dict[str, tuple[list[dict], dict]]) -> None:
    """The numbers behind results.md: one line per run, measurements joined."""
    cols = ["dataset", "config", "mode", "T", "d", "fc", "bits", "epochs", "lambdas", "weight_bytes",
            "trainer_weight_bytes", "accuracy", "trainer_accuracy", "int8_flash_bytes", "c_int8_accuracy",
            "c_int8_source", "c_int8_mismatches", "train_seconds"]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for ds in DATASETS:
            if ds not in data:
                continue
            rows, meas = data[ds]
            for r in rows:
                m = meas.get(r["model"] or "", {}) if r["mode"] != "trainer" else {}
                fc = tuple(int(x) for x in r["fc"].split("-")) if r.get("fc") and r["fc"] != "0" else ()
                w.writerow({"dataset": ds, "config": "trainer" if r["mode"] == "trainer" else
                            config_name(r["T"], r["d"], fc), "mode": r["mode"], "T": r["T"], "d": r["d"],
                            "fc": r["fc"], "bits": r["bits"], "epochs": r["epochs"], "lambdas": r["lambdas"],
                            "weight_bytes": r["weight_bytes"], "trainer_weight_bytes": r["trainer_weight_bytes"],
                            "accuracy": r["accuracy"], "trainer_accuracy": r["trainer_accuracy"],
                            "int8_flash_bytes": m.get("flash_bytes"), "c_int8_accuracy": m.get("accuracy_c"),
                            "c_int8_source": m.get("source"), "c_int8_mismatches": m.get("mismatches"),
                            "train_seconds": r["seconds"]})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="sweep directories (default runs/results)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown file (default docs/results.md)")
    p.add_argument("--board", default=DEFAULT_BOARD)
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--host", action="store_true", help="measure C accuracy with `pnetc verify` instead of the board")
    p.add_argument("--no-measure", action="store_true", help="train, but do not build or run")
    p.add_argument("--report-only", action="store_true", help="only render from what the cache holds")
    a = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # much faster on a small shared machine
    data, seeds = {}, {}
    for ds in [x.strip() for x in a.datasets.split(",") if x.strip()]:
        if ds not in EPOCHS:
            p.error(f"unknown data set {ds!r}; use {', '.join(DATASETS)}")
        sweep_dir = a.cache / ds
        if not a.report_only:
            train(ds, sweep_dir, EPOCHS[ds])
            repeat_seeds, repeat_configs = SEED_REPEATS[ds]
            for seed in repeat_seeds:
                train(ds, a.cache / f"{ds}-seed{seed}", EPOCHS[ds], seed, repeat_configs)
        rows = read_sweep(sweep_dir / "sweep.csv")
        meas = {}
        if not a.report_only and not a.no_measure:
            meas = measure(ds, sweep_dir, rows, a.board, a.host)
        elif (sweep_dir / "measure.json").is_file():
            meas = json.loads((sweep_dir / "measure.json").read_text())
        if rows:
            data[ds] = (rows, meas)
            seeds[ds] = {0: rows}
            for seed in SEED_REPEATS[ds][0]:
                extra = read_sweep(a.cache / f"{ds}-seed{seed}" / "sweep.csv")
                if extra:
                    seeds[ds][seed] = extra
        else:
            log(f"{ds}: nothing trained yet in {sweep_dir}; left out")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    previous = a.out.read_text() if a.out.is_file() else ""
    kept = previous[previous.index(HAND_MEASURED):] if HAND_MEASURED in previous else ""
    a.out.write_text(render(data, board=a.board, seeds=seeds) + ("\n" + kept if kept else ""))
    write_csv(a.out.with_suffix(".csv"), data)
    log(f"wrote {a.out} and {a.out.with_suffix('.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
