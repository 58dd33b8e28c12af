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


@pytest.mark.parametrize("outcome,code,status", [
    (_report([]), 0, "ok"),
    (_report([Mismatch(3, ["scores"], 1, 1)]), commands.EXIT_MISMATCH, "mismatch"),
    (DeviceError("fault", "the mps2-an386 firmware faulted"), commands.EXIT_FAULT, "fault"),
    (DeviceError("timeout", "the mps2-an386 firmware did not finish"), commands.EXIT_TIMEOUT, "timeout"),
])
def test_run_outcomes(monkeypatch, capsys, outcome, code, status):
    def fake_run_model(*args, **kwargs):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(run_mod, "run_model", fake_run_model)
    rc = commands.run_command("m.onnx", "mps2-an386", "digits", None, None, "int8", None, None, True)
    out, err = capsys.readouterr()
    assert rc == code
    res = json.loads(out.strip().splitlines()[-1])
    assert res["status"] == status and res["board"] == "mps2-an386"
    if code:
        assert err.startswith("pnetc: error: " + ("mismatch" if status == "mismatch" else status))
    else:
        assert res["mismatches"] == 0 and res["accuracy_device"] == 0.8
