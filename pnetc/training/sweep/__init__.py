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

import itertools
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pnetc.errors import PnetcError
from pnetc.results import Result
from pnetc.training.sweep.grid import MODES, TRAINER_MODE, Point, fc_text, parse_grid, parse_modes
from pnetc.training.sweep.plot import plot
from pnetc.training.sweep.table import (COLUMNS, CSV_NAME, PNG_NAME, SETTINGS_NAME, append_row, check_settings,
                                        read_rows, read_typed_rows, typed_row)

__all__ = ["COLUMNS", "SweepResult", "parse_grid", "parse_modes", "read_rows", "read_typed_rows", "run_sweep", "typed_row"]


@dataclass(frozen=True)
class SweepResult(Result):
    """A (T, d, FC) grid trained joint and alone: one row per run (see docs/sweep.md)."""

    csv: Path
    png: Path
    trained: int
    skipped: int
    rows: tuple[dict, ...]


def run_sweep(
    *,
    out: str | Path,
    grid: list[str] | str | None = None,
    modes: str | None = None,
    force: bool = False,
    progress: bool = True,
    **options,
) -> SweepResult:
    """Train every missing (grid point, mode) plus the trainer reference; write CSV and PNG.

    `options`: the training options a sweep shares with `pnetc train` (options.for_command("sweep"):
    dataset, epochs, seed, trainer, kind, density, lambdas, temperature, data_dir, device).
    DIR holds only pnetc's files unless `force` (then it writes beside yours, never over them), and
    is locked while the sweep runs (pnetc/outdir.py).
    Returns a SweepResult (rows: every CSV row, typed)."""
    import os

    from pnetc.training.config import TrainConfig, resolve
    from pnetc.training.options import DISTILL_LAMBDAS, config_fields, parse

    if int(os.environ.get("WORLD_SIZE") or 1) > 1:  # every rank would run the whole grid and write the CSV
        raise PnetcError("pnetc sweep runs its grid in one process; start it without torchrun")
    values = parse(options, command="sweep")
    parsed = parse_grid(grid)
    mode_names = parse_modes(modes)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PnetcError(f"--out {out} exists and is not a directory")

    from pnetc.datasets import load_dataset

    ds = load_dataset(values["dataset"], data_dir=values["data_dir"])
    if values["trainer"] is None and ds.task == "text":
        values["trainer"] = "lstm"  # a sweep compares joint training with a trainer; text trains none by default
    fields = config_fields(values)
    if values["lambdas"] is None:  # the joint runs keep a distillation term to compare "alone" with
        fields["lambdas"] = DISTILL_LAMBDAS
    base = TrainConfig(**fields)
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
    from pnetc import outdir

    with outdir.workspace(out, command="sweep", force=force) as folder:
        folder.refuse_conflicts([SETTINGS_NAME, CSV_NAME, PNG_NAME])
        check_settings(folder, settings)
        csv_path, png_path = out / CSV_NAME, out / PNG_NAME
        done = {tuple(r[k] for k in ("T", "d", "fc", "mode")) for r in read_rows(csv_path)}
        todo = [(p, c) for p, c in configs if p.key not in done]

        trained = 0
        if todo:
            trained = _train_all(todo, ds, settings, folder, out, progress)
        rows = read_typed_rows(csv_path)
        temp = "" if settings["temperature"] == 1.0 else f", temperature {settings['temperature']:g}"
        with folder.writing(PNG_NAME) as tmp:
            plot(rows, tmp, title=f"{ds.name}: accuracy vs neural bits ({settings['epochs']} epochs, "
                                  f"joint λ = {settings['lambdas']}{temp}, seed {settings['seed']})")
    return SweepResult(csv=csv_path, png=png_path, trained=trained, skipped=len(configs) - len(todo),
                       rows=tuple(rows))


def _train_all(todo, ds, settings: dict, folder, out: Path, progress: bool) -> int:
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
            run = f"runs/{point.dirname}"
            started = time.monotonic()
            # a run cut off mid-way continues; one that finished without its row starts over
            result = train(config, out / run, prepared=prepared, progress=False,
                           resume=folder.owns(f"{run}/{CHECKPOINT}"), force=True)
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
            append_row(folder, row)
            folder.remove(f"{run}/{CHECKPOINT}")  # the row is the record now
            bar.update(task, advance=1)
            if progress:
                console.print(f"{point.label}: accuracy {row['accuracy']:.4f}"
                              + (f"  ({row['bits']} bits, {row['weight_bytes']} B)" if row.get("bits") else ""))
    return len(todo)
