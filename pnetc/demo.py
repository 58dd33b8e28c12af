"""`pnetc demo`: the whole job on the built-in digits data set, through the Python API.

train (dataset defaults) -> compile (int8) -> build for a QEMU board -> run the whole test
split on it (every bit, int8 score and prediction must equal the golden interpreter) -> bench
(exact instructions per inference). Writes everything under OUT and returns one summary.
OUT is one transaction (pnetc/outdir.py): a demo that fails leaves the previous one as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pnetc.errors import PnetcError

DEFAULT_BOARD = "mps2-an386"
DEFAULT_OUT = "runs/demo"


@dataclass(frozen=True)
class DemoResult:
    """The demo's numbers and the paths it wrote."""

    board: str
    core: str
    dataset: str
    samples: int
    mismatches: int
    accuracy_float: Optional[float]       # the projection net in torch (float32)
    accuracy_reference: Optional[float]   # int8 golden interpreter (Python)
    accuracy_device: Optional[float]      # int8 C on the board
    flash_bytes: int                      # model code + weights
    flash_code_bytes: int
    flash_weight_bytes: int
    ram_bytes: int                        # arena + stack high-water
    ram_static_bytes: int
    stack_high_water_bytes: Optional[int]
    instructions_per_inference: float
    bench_samples: int
    seconds: dict                         # per stage wall time
    paths: dict                           # what was written where
    runner: str = "qemu-system"           # how the board ran: qemu-system | qemu-user | host

    def to_dict(self) -> dict:
        from pnetc.results import jsonable

        return {k: jsonable(v) for k, v in self.__dict__.items()}


def run_demo(board: str = DEFAULT_BOARD, out: str | Path = DEFAULT_OUT, *, epochs: Optional[int] = None,
             bench_samples: int = 20, progress: Optional[bool] = None, log=None, force: bool = False) -> DemoResult:
    """Train on digits, compile int8, build, run the whole test split on `board`, bench it.

    `log(stage_text)` is called before each stage (the CLI prints it to stderr)."""
    import pnetc
    from pnetc import outdir
    from pnetc import progress as pnetc_progress
    from pnetc.targets.boards import get_board

    say = log or (lambda _text: None)
    b = get_board(board)
    if not b.can_run:
        raise PnetcError(f"the demo runs the model on {b.name}, which cannot run here "
                         f"({', '.join(b.missing_tools()) or 'build-only board'}); pick a board `pnetc boards` "
                         f"marks as runnable")
    train_progress = progress if progress is not None else pnetc_progress.wanted(None)  # epoch lines: terminals only
    seconds: dict[str, float] = {}

    def timed(stage: str, fn):
        t0 = time.perf_counter()
        value = fn()
        seconds[stage] = round(time.perf_counter() - t0, 2)
        return value

    with outdir.transaction(out, command="demo", force=force) as staged:
        work = staged.path
        say("1/5 train a projection net on digits (dataset defaults)")
        trained = timed("train", lambda: pnetc.train("digits", out=work / "train", epochs=epochs,
                                                       progress=train_progress))
        say(f"2/5 compile {_shown(staged.final(trained.model))} to int8 C99")
        compiled = timed("compile", lambda: pnetc.compile(trained, work / "model", name="digits", precision="int8"))
        say(f"3/5 build firmware for {b.name} and measure it")
        built = timed("build", lambda: pnetc.build(trained, b.name, work / "build", progress=progress))
        say(f"4/5 run the whole test split on {b.name} and compare with the golden interpreter")
        ran = timed("run", lambda: pnetc.run(trained, b.name, dataset="digits", out_dir=work / "run",
                                             progress=progress))
        say(f"5/5 count instructions per inference on {b.name}")
        benched = timed("bench", lambda: pnetc.bench(trained, b.name, n=bench_samples, dataset="digits",
                                                      out_dir=work / "bench", progress=progress))
    seconds["total"] = round(sum(seconds.values()), 2)
    final = staged.final
    return DemoResult(
        board=b.name, core=b.core, dataset="digits", samples=ran.samples, mismatches=ran.mismatches + benched.mismatches,
        accuracy_float=trained.projection_accuracy, accuracy_reference=ran.accuracy_reference,
        accuracy_device=ran.accuracy_device, flash_bytes=built.flash_bytes, flash_code_bytes=built.flash_code_bytes,
        flash_weight_bytes=built.flash_weight_bytes,
        ram_bytes=built.ram_bytes, ram_static_bytes=built.ram_static_bytes,
        stack_high_water_bytes=built.stack_high_water_bytes,
        instructions_per_inference=benched.instructions_per_inference, bench_samples=benched.samples,
        seconds=seconds, runner=b.runner,
        paths={"model": final(trained.model), "library": final(compiled.out_dir), "header": final(compiled.header),
               "firmware": final(built.elf), "size_report": final(built.size_report), "run": final(work / "run"),
               "bench": final(work / "bench")},
    )


def _shown(path) -> str:
    """A path relative to the current directory when it is below it (shorter to read)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
