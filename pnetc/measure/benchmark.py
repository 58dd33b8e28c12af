"""`pnetc bench`: exact instructions per inference and per stage, flash and RAM, on one board.

Emulators count instructions, not time: nothing here is in milliseconds. The only time-like
number is `cycles_estimate`, labelled as an estimate (instructions x a per-core CPI guess)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from pnetc.errors import PnetcError

# Rough cycles per instruction on each core's in-order pipeline, for the labelled estimate only.
CPI_GUESS = {"cortex-m0": 1.3, "cortex-m0plus": 1.2, "cortex-m3": 1.25, "cortex-m4": 1.2, "cortex-m7": 0.8,
             "cortex-m33": 1.15, "cortex-m55": 1.0}


@dataclass
class BenchReport:
    board: str
    core: str
    precision: str
    samples: int
    counts: object            # pnetc.measure.count.Counts
    stage_names: list[str]
    size: object              # pnetc.targets.size.SizeReport
    mismatches: int
    input_bytes: list[int] | None = None  # text models: each sample's length, for the per-byte cost

    def to_dict(self) -> dict:
        s = self.counts.summary()
        stages = s.get("stages", [])
        for st in stages:
            k = st["stage"]
            st["name"] = self.stage_names[k] if k < len(self.stage_names) else f"stage {k}"
        size = self.size.to_dict()
        out = {
            "board": self.board, "core": self.core, "precision": self.precision, "samples": self.samples,
            "instructions_per_inference": s["mean"],
            "instructions_min": s["min"], "instructions_max": s["max"],
            "stages": stages,
            "flash_bytes": size["flash_bytes"], "flash_code_bytes": size["flash_code_bytes"],
            "flash_weight_bytes": size["flash_weight_bytes"],
            "ram_bytes": size["ram_bytes"],
            "ram_static_bytes": size["ram_static_bytes"], "ram_arena_bytes": size["ram_arena_bytes"],
            "stack_high_water_bytes": size["stack_high_water_bytes"],
            "marker_overhead_instructions": self.counts.marker_overhead,
            "mismatches": self.mismatches,
            "size": size,
        }
        if self.input_bytes is not None:
            out.update(text_cost(self.counts.per_inference, self.input_bytes))
        cpi = CPI_GUESS.get(self.core)
        if cpi is not None:
            out["cycles_estimate"] = {"value": round(s["mean"] * cpi), "cpi_assumed": cpi,
                                      "note": "estimate: instructions x assumed CPI, not a measurement"}
        return out


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
                precision: str = "int8", calib=None, out_dir=None, timeout_s: float | None = None,
                progress: Callable[[int, int], None] | None = None, output=None) -> BenchReport:
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
        return BenchReport(board.name, board.core, precision, len(samples), counts, stage_names(model),
                           sized.size, mismatches, lengths)
