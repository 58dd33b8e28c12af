"""`pnetc build`: compile a model for a board, link the firmware, measure it, and check it fits.

Outputs in DIR: model/ (the generated C), firmware.elf/.bin/.map, baseline.elf (the same firmware
without the model; the size report is the difference), and size_report.json."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from pnetc.errors import PnetcError
from pnetc.results import Result
from pnetc.targets.boards import Board, get_board, install_hint
from pnetc.targets.fit import ModelDoesNotFit, link_and_size  # noqa: F401  (ModelDoesNotFit: part of this API)
from pnetc.targets.size import SizeReport
from pnetc.targets.toolchain import Firmware, ModelSources


def compile_for_board(model_path, out_dir: Path, *, precision: str = "int8", name: str = "model", calib=None,
                      output=None):
    from pnetc.compiler import compile_model

    if not Path(model_path).is_file():
        raise PnetcError(f"model file {model_path} does not exist")
    return compile_model(model_path, out_dir, name=name, precision=precision, calib=calib, output=output)


STAGE_KINDS = {"Dense": "dense", "Conv": "conv", "Pool": "pool"}


def stage_names(model) -> list[str]:
    """Readable names of the PNET_STAGE_MARK stages, one per op that ends a stage, in order: the
    projection ("project"), each layer ("dense NAME", "conv NAME", "pool NAME"; a stem runs first)."""
    graph = getattr(model, "graph", None)
    names: list[str] = []
    for op in getattr(graph, "ops", []) or []:
        cls = type(op).__name__
        if cls.endswith("Projection"):
            names.append("featurize+project" if cls.startswith("Text") else "project")
        elif cls in STAGE_KINDS:
            names.append(f"{STAGE_KINDS[cls]} {getattr(op, 'name', len(names))}")
    return names


def probe_samples(model: ModelSources, n: int = 4) -> list:
    """A few fixed inputs, in the model's own input domain, for measuring the stack when no data set is given."""
    if model.input_kind == "text":
        return [b"The quick brown fox jumps over the lazy dog.", "Zo'n vijftig mensen".encode(),
                "Le petit chat dort \u00e0 la maison.".encode(), b"a"][:n]
    rng = np.random.default_rng(0)
    shape = (n, int(model.input_size))
    reference = getattr(model, "reference", None)
    domain = reference.input_dtype if reference is not None else "uint8"
    if domain == "float32":
        return list(rng.standard_normal(shape).astype(np.float32))
    if domain == "int8":
        return list(rng.integers(-128, 128, size=shape, dtype=np.int8))
    return list(rng.integers(0, 256, size=shape, dtype=np.uint8))


@dataclass
class MeasuredFirmware:
    """A linked firmware with its baseline (the same without the model) and the size report."""

    board: Board
    model: ModelSources
    firmware: Firmware
    baseline: Firmware
    size: SizeReport
    out_dir: Path


def build_and_measure(board: Board, model: ModelSources, out_dir: Path, *, max_input_bytes: int | None = None,
                      measure_stack: bool = True, bench: bool = False) -> MeasuredFirmware:
    """Build firmware + baseline, measure sizes, check the fit (raises ModelDoesNotFit), measure the stack."""
    firmware, baseline, size = link_and_size(board, model, out_dir, max_input_bytes=max_input_bytes, bench=bench)
    if measure_stack and board.can_run:
        from pnetc.targets.run import run_samples

        device, _ = run_samples(board, model, probe_samples(model), out_dir / "stack_probe", firmware=firmware)
        size.stack_high_water = int(device.stack_bytes.max())
    return MeasuredFirmware(board, model, firmware, baseline, size, out_dir)


@dataclass(frozen=True)
class BuildResult(Result):
    """Firmware for one board and the model's measured flash and RAM (delta against the same
    firmware without the model)."""

    board: str
    core: str
    precision: str
    model: str
    out_dir: Path
    elf: Path
    bin: Optional[Path]
    map: Optional[Path]
    size_report: Path
    flash_bytes: int               # model code + weights
    flash_code_bytes: int
    flash_weight_bytes: int
    ram_bytes: int                 # static + stack high-water (as BenchResult; static alone if not measured)
    ram_static_bytes: int          # the model's .data + .bss (the arena and any other static)
    ram_arena_bytes: int
    stack_high_water_bytes: Optional[int]  # None when the board cannot run here
    image_flash_bytes: int
    image_ram_bytes: int
    fits: bool
    extra: dict = dataclasses.field(default_factory=dict)  # section breakdowns and board capacities
    _build: Optional[MeasuredFirmware] = dataclasses.field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, built: MeasuredFirmware, precision: str, model_path) -> "BuildResult":
        s = built.size.to_dict()
        fw = built.firmware
        keys = ("flash_bytes", "flash_code_bytes", "flash_weight_bytes", "ram_bytes", "ram_static_bytes", "ram_arena_bytes",
                "stack_high_water_bytes", "image_flash_bytes", "image_ram_bytes", "fits")
        return cls(board=built.board.name, core=built.board.core, precision=precision, model=str(model_path),
                   out_dir=built.out_dir, elf=fw.elf, bin=fw.bin or None, map=fw.map or None,
                   size_report=built.out_dir / "size_report.json", **{k: s[k] for k in keys},
                   extra={k: v for k, v in s.items() if k not in keys and k != "board"}, _build=built)


def build_model(model_path, board_name: str, out_dir, *, precision: str = "int8", calib=None,
                force: bool = False, output=None) -> BuildResult:
    """Build into a temporary folder and swap it into out_dir only when the model fits (pnetc/outdir.py):
    a refused build leaves the previous build as it was, and no file of an old build survives beside a
    new one. Returned paths are the final ones."""
    from pnetc import outdir

    out_dir = Path(out_dir).resolve()  # the emulator runs in another directory
    board = get_board(board_name)
    if board.missing_tools() and not board.can_build:
        missing = [t for t in board.missing_tools() if t != board.runner_command]  # building needs no QEMU
        raise PnetcError(f"board {board.name} needs {', '.join(missing)}, not installed; {install_hint(missing)}")
    with outdir.transaction(out_dir, command="build", force=force) as staged:
        model = compile_for_board(model_path, staged.path / "model", precision=precision, calib=calib, output=output)
        result = build_and_measure(board, model, staged.path)
        final = _relocated_firmware(result.firmware, staged)
        report = {**result.size.to_dict(), "precision": precision, "model": str(model_path),
                  "elf": str(final.elf), "bin": str(final.bin) if final.bin else None,
                  "map": str(final.map) if final.map else None}
        (staged.path / "size_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return BuildResult.of(dataclasses.replace(result, firmware=final, model=relocated(model, staged),
                                              baseline=_relocated_firmware(result.baseline, staged),
                                              out_dir=staged.target), precision, model_path)


def _relocated_firmware(fw: Firmware, staged) -> Firmware:
    return dataclasses.replace(fw, elf=staged.final(fw.elf), bin=fw.bin and staged.final(fw.bin),
                               map=fw.map and staged.final(fw.map))


def relocated(model, staged):
    """A CompiledModel written in a transaction's temporary folder, with its paths after the swap."""
    return dataclasses.replace(model, out_dir=staged.final(model.out_dir), header=staged.final(model.header),
                               sources=[staged.final(p) for p in model.sources],
                               include_dirs=[staged.final(p) for p in model.include_dirs])
