"""`pnetc bench`: exact instructions per inference and per stage, flash and RAM, on one board.

Emulators count instructions, not time: nothing here is in milliseconds. The only time-like
number is `cycles_estimate`, labelled as an estimate (instructions x a per-core CPI guess)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from pnetc.errors import PnetcError
from pnetc.results import Result

# Rough cycles per instruction on each core's in-order pipeline, for the labelled estimate only.
CPI_GUESS = {"cortex-m0": 1.3, "cortex-m0plus": 1.2, "cortex-m3": 1.25, "cortex-m4": 1.2, "cortex-m7": 0.8,
             "cortex-m33": 1.15, "cortex-m55": 1.0}


@dataclass(frozen=True)
class BenchResult(Result):
    """Exact instruction counts (QEMU TCG plugin) per inference and per stage, and flash/RAM."""

    board: str
    core: str
    precision: str
    samples: int
    instructions_per_inference: float    # mean over the samples
    instructions_min: int
    instructions_max: int
    stages: tuple[dict, ...]             # per stage: name, mean, min, max
    flash_bytes: int
    flash_code_bytes: int
    flash_weight_bytes: int
    ram_bytes: int                       # static + stack high-water
    ram_static_bytes: int
    ram_arena_bytes: int
    stack_high_water_bytes: Optional[int]
    mismatches: int
    extra: dict = field(default_factory=dict)  # size breakdown, marker overhead, labelled cycle estimate

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    @classmethod
    def measured(cls, board, precision: str, samples: int, counts, stage_names: list[str], size, mismatches: int,
                 input_bytes: list[int] | None = None) -> "BenchResult":
        """From the counts (pnetc.measure.count.Counts) and the size report (pnetc.targets.size.SizeReport);
        input_bytes: a text model's sample lengths, for the cost per byte."""
        s = counts.summary()
        stages = s.get("stages", [])
        for st in stages:
            k = st["stage"]
            st["name"] = stage_names[k] if k < len(stage_names) else f"stage {k}"
        size = size.to_dict()
        extra = {"marker_overhead_instructions": counts.marker_overhead, "size": size}
        if input_bytes is not None:
            extra.update(text_cost(counts.per_inference, input_bytes))
        cpi = CPI_GUESS.get(board.core)
        if cpi is not None:
            extra["cycles_estimate"] = {"value": round(s["mean"] * cpi), "cpi_assumed": cpi,
                                        "note": "estimate: instructions x assumed CPI, not a measurement"}
        return cls(
            board=board.name, core=board.core, precision=precision, samples=samples,
            instructions_per_inference=s["mean"], instructions_min=s["min"], instructions_max=s["max"],
            stages=tuple(stages),
            flash_bytes=size["flash_bytes"], flash_code_bytes=size["flash_code_bytes"],
            flash_weight_bytes=size["flash_weight_bytes"],
            ram_bytes=size["ram_bytes"],
            ram_static_bytes=size["ram_static_bytes"], ram_arena_bytes=size["ram_arena_bytes"],
            stack_high_water_bytes=size["stack_high_water_bytes"], mismatches=mismatches, extra=extra)


def text_cost(instructions, input_bytes) -> dict:
    """What a text model costs per input byte, from per-sample instruction counts and text lengths.

    instructions_per_byte: mean instructions / mean bytes (None if every text is empty).
    instructions_fixed + instructions_per_byte_marginal * bytes: the least-squares line through the
    samples (both None unless at least two lengths differ). The fixed part is what a call costs
    whatever the text: setup, the final pass over the counters, the layers after the projection."""
    y = np.asarray(instructions, dtype=np.float64)
    x = np.asarray(input_bytes, dtype=np.float64)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("text_cost needs one length per instruction count")
    out = {"input_bytes_mean": float(x.mean()),
           "instructions_per_byte": float(y.mean() / x.mean()) if x.mean() > 0 else None,
           "instructions_fixed": None, "instructions_per_byte_marginal": None}
    if np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        out["instructions_fixed"] = float(intercept)
        out["instructions_per_byte_marginal"] = float(slope)
    return out


def bench_samples(model, samples: Sequence | None, n: int) -> list:
    """The first n of the given samples; without any, n fixed probe inputs (dense models only)."""
    if samples is not None:
        return list(samples)[:n]
    if model.input_kind == "text":
        raise PnetcError("benchmarking a text model needs --dataset NAME or --data FILE for realistic inputs")
    from pnetc.targets.build import probe_samples

    return probe_samples(model, n)


def bench_model(model_path, board_name: str, *, n: int = 20, samples: Sequence | None = None,
                precision: str = "int8", calib=None, out_dir=None, force: bool = False,
                timeout_s: float | None = None, progress: Callable[[int, int], None] | None = None,
                output=None) -> BenchResult:
    """Count the instructions of n inferences on a QEMU board and measure flash and RAM.
    out_dir: keep the build and run files there (a transaction: pnetc/outdir.py; kept on a fault too)."""
    from pnetc import outdir
    from pnetc.targets.run import DeviceError

    return outdir.kept(out_dir, lambda where: _bench_in(where, model_path, board_name, n, samples, precision, calib,
                                                        timeout_s, progress, output),
                       command="bench", force=force, keep_on=(DeviceError,))


def _bench_in(out_dir, model_path, board_name: str, n: int, samples, precision: str, calib, timeout_s,
              progress, output) -> BenchResult:
    from pnetc.measure.count import counts_from_windows, run_counted
    from pnetc.targets import sandbox
    from pnetc.targets.boards import runnable_board
    from pnetc.targets.build import build_and_measure, compile_for_board, stage_names
    from pnetc.targets.compare import compare
    from pnetc.targets.protocol import INPUT_FILE, encode_records, parse_output
    from pnetc.targets.run import check_execution, checked_timeout, default_timeout, device_inputs, max_record_bytes

    if timeout_s is not None:
        checked_timeout(timeout_s)
    board = runnable_board(board_name)
    if n < 1:
        raise PnetcError("-n must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pnetc-bench-") as tmp:
        work = Path(out_dir) if out_dir is not None else Path(tmp)
        model = compile_for_board(model_path, work / "model", precision=precision, calib=calib, output=output)
        samples = bench_samples(model, samples, n)
        rec = max_record_bytes(model, samples)
        # sizes come from the plain build (no markers); instructions from the marked build
        sized = build_and_measure(board, model, work / "size", max_input_bytes=rec, measure_stack=True)
        bench = build_and_measure(board, model, work / "bench", max_input_bytes=rec, measure_stack=False, bench=True)
        run_dir = work / "bench_run"
        run_dir.mkdir(parents=True, exist_ok=True)
        sandbox.fresh(run_dir / INPUT_FILE).write_bytes(encode_records(*device_inputs(model, samples)))
        timeout_s = timeout_s or 2 * default_timeout(board, samples, model)
        tick = (lambda done: progress(done, len(samples))) if progress else None
        run, windows = run_counted(board, bench.firmware.elf, run_dir, n_samples=len(samples), timeout_s=timeout_s,
                                   progress=tick)
        check_execution(run, board, len(samples), timeout_s, bench.firmware.elf)
        device = parse_output(run.output, model.num_bits, model.num_classes, model.score_dtype)
        ref = model.reference.run(np.asarray(samples) if model.input_kind != "text" else samples)
        mismatches = len(compare(device, ref, model.score_dtype))
        counts = counts_from_windows(windows)
        lengths = [len(t) for t in samples] if model.input_kind == "text" else None
        return BenchResult.measured(board, precision, len(samples), counts, stage_names(model), sized.size,
                                    mismatches, lengths)
