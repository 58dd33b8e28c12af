"""`pnetc bench` on a text model reports instructions per input byte and the fixed part of a call."""

from __future__ import annotations

import numpy as np
import pytest

from pnetc.measure.benchmark import text_cost

from tests.targets.conftest import last_json, pnetc, skip_unless_runnable


def test_text_cost_recovers_a_line():
    sizes = np.array([10, 40, 136, 300, 7])
    instructions = 52_000 + 2_250 * sizes
    cost = text_cost(instructions, sizes)
    assert cost["instructions_fixed"] == pytest.approx(52_000)
    assert cost["instructions_per_byte_marginal"] == pytest.approx(2_250)
    assert cost["input_bytes_mean"] == pytest.approx(sizes.mean())
    # the mean ratio includes the fixed part spread over the mean text
    assert cost["instructions_per_byte"] == pytest.approx(instructions.mean() / sizes.mean())
    assert cost["instructions_per_byte"] > 2_250


def test_text_cost_least_squares_on_noisy_counts():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 500, size=50)
    instructions = 10_000 + 300 * sizes + rng.integers(-200, 200, size=50)
    cost = text_cost(instructions, sizes)
    slope, intercept = np.linalg.lstsq(np.stack([np.ones(50), sizes], axis=1), instructions, rcond=None)[0][::-1]
    assert cost["instructions_per_byte_marginal"] == pytest.approx(slope)
    assert cost["instructions_fixed"] == pytest.approx(intercept)


def test_text_cost_without_a_line():
    same = text_cost([1_000, 1_100, 1_050], [20, 20, 20])  # one length: no line to fit
    assert same["instructions_per_byte"] == pytest.approx(1_050 / 20)
    assert same["instructions_fixed"] is None and same["instructions_per_byte_marginal"] is None
    empty = text_cost([900], [0])  # empty texts: no per-byte figure at all
    assert empty["instructions_per_byte"] is None and empty["input_bytes_mean"] == 0
    with pytest.raises(ValueError):
        text_cost([1, 2], [3])


@pytest.mark.qemu
def test_bench_reports_cost_per_byte(factory_models):
    skip_unless_runnable("mps2-an386")
    args = ["bench", str(factory_models["text"]), "--board", "mps2-an386", "-n", "8",
            "--data", str(factory_models["text_jsonl"])]
    proc = pnetc(*args, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = last_json(proc.stdout)
    assert res["input_bytes_mean"] > 0
    assert res["instructions_per_byte"] == pytest.approx(res["instructions_per_inference"] / res["input_bytes_mean"])
    assert res["instructions_per_byte_marginal"] > 0 and res["instructions_fixed"] is not None
    text = pnetc(*args)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "per input byte" in text.stdout and "least-squares fit" in text.stdout
    dense = pnetc("bench", str(factory_models["dense"]), "--board", "mps2-an386", "-n", "2", "--json")
    assert dense.returncode == 0 and "instructions_per_byte" not in last_json(dense.stdout)
