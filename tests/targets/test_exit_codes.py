"""`pnetc run` turns each outcome into its exit code and a JSON status (docs/boards.md)."""

from __future__ import annotations

import json

import pytest

from pnetc import report as commands
from pnetc import evaluate as run_mod  # where run_model lives
from pnetc.evaluate import RunResult
from pnetc.targets.compare import Mismatch
from pnetc.targets.run import DeviceError


def _report(mismatches):
    return RunResult.compared("mps2-an386", "int8", 10, mismatches, 0.9, 0.8, 128, 0.5, "digits")


def _stage_ending_in(outcome):
    """A stand-in for a stage function: returns the result, or raises the device error."""
    def stage(*args, **kwargs):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return stage


@pytest.mark.parametrize("outcome,code,status", [
    (_report([]), 0, "ok"),
    (_report([Mismatch(3, ["scores"], 1, 1)]), commands.EXIT_MISMATCH, "mismatch"),
    (DeviceError("fault", "the mps2-an386 firmware faulted"), commands.EXIT_FAULT, "fault"),
    (DeviceError("timeout", "the mps2-an386 firmware did not finish"), commands.EXIT_TIMEOUT, "timeout"),
])
def test_run_outcomes(monkeypatch, capsys, outcome, code, status):
    monkeypatch.setattr(run_mod, "run_model", _stage_ending_in(outcome))
    rc = commands.run_command("m.onnx", "mps2-an386", "digits", None, None, "int8", None, None, True)
    out, err = capsys.readouterr()
    assert rc == code
    res = json.loads(out.strip().splitlines()[-1])
    assert res["status"] == status and res["board"] == "mps2-an386"
    if code:
        assert err.startswith("pnetc: error: " + ("mismatch" if status == "mismatch" else status))
    else:
        assert res["mismatches"] == 0 and res["accuracy_device"] == 0.8


def _bench(mismatches):
    from pnetc.measure.benchmark import BenchResult

    return BenchResult(board="mps2-an386", core="cortex-m4", precision="int8", samples=5,
                       instructions_per_inference=100.0, instructions_min=90, instructions_max=110, stages=(),
                       flash_bytes=10, flash_code_bytes=6, flash_weight_bytes=4, ram_bytes=8, ram_static_bytes=8,
                       ram_arena_bytes=4, stack_high_water_bytes=0, mismatches=mismatches)


@pytest.mark.parametrize("outcome,code,status", [
    (_bench(0), 0, None),
    (_bench(2), commands.EXIT_MISMATCH, None),
    (DeviceError("timeout", "the mps2-an386 firmware did not finish"), commands.EXIT_TIMEOUT, "timeout"),
])
def test_bench_outcomes(monkeypatch, capsys, outcome, code, status):
    """`pnetc bench` ends like `pnetc run` (one shared tail): exit code, JSON line, one error line."""
    from pnetc.measure import benchmark

    monkeypatch.setattr(benchmark, "bench_model", _stage_ending_in(outcome))
    rc = commands.bench_command("m.onnx", "mps2-an386", 5, None, None, "int8", None, True)
    out, err = capsys.readouterr()
    res = json.loads(out.strip().splitlines()[-1])
    assert rc == code and res["board"] == "mps2-an386"
    if status:
        assert res["status"] == status and err.startswith(f"pnetc: error: {status}")
    elif code:
        assert res["mismatches"] == 2
        assert err.strip() == "pnetc: error: mismatch: 2 of 5 benchmark samples differ from the reference"
    else:
        assert err == "" and res["instructions_per_inference"] == 100.0
