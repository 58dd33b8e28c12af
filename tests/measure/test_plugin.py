"""The instruction-count plugin is exact: a hand-written loop costs exactly what it should."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from pnetc.measure.count import counts_from_windows, run_counted
from pnetc.targets.boards import get_board
from pnetc.targets.run import build_for_run, encode_records
from pnetc.targets.toolchain import compile_firmware

from tests.targets.conftest import last_json, pnetc, skip_unless_runnable
from tests.targets.toy_model import ToyModel, toy_inputs

pytestmark = pytest.mark.qemu

FIXTURES = Path(__file__).parents[1] / "targets" / "fixtures"
LOOP_SOURCE = {"linux-aarch64": "loop_a64.S", "linux-armv7": "loop_a32.S", "host": "loop_x86_64.S"}


@pytest.mark.parametrize("name", ["mps2-an386", "microbit", "mps3-an547", "linux-aarch64", "linux-armv7", "host"])
def test_loop_count_is_exact(name, tmp_path):
    skip_unless_runnable(name)
    if name == "host" and platform.machine() != "x86_64":
        pytest.skip("the host loop is written in x86-64 assembly")
    board = get_board(name)
    src = FIXTURES / LOOP_SOURCE.get(name, "loop_thumb.S")
    fw = compile_firmware(board, tmp_path, main_c=(FIXTURES / "loop_main.c").read_text(), sources=[src],
                          bench=True, stem="loop")
    try:
        run, windows = run_counted(board, fw.elf, tmp_path, n_samples=0, timeout_s=30)
    except Exception as exc:  # e.g. no qemu-x86_64 for the host board
        if "not installed" in str(exc):
            pytest.skip(str(exc))
        raise
    assert run.returncode == 0, run.console
    assert len(windows) == 2
    # window 2 = window 1 + the loop: one mov, then 100 x (subtract, branch)
    assert windows[1].total - windows[0].total == 1 + 2 * 100


def test_counts_are_deterministic_and_stages_add_up(tmp_path):
    skip_unless_runnable("mps2-an386")
    board = get_board("mps2-an386")
    model = ToyModel()
    fw = build_for_run(board, model, tmp_path, max_input_bytes=16, bench=True)
    (tmp_path / "pnet_in.bin").write_bytes(encode_records(list(toy_inputs(10))))
    results = []
    for _ in range(2):
        run, windows = run_counted(board, fw.elf, tmp_path, n_samples=10, timeout_s=30)
        assert run.returncode == 0
        results.append(counts_from_windows(windows))
    a, b = results
    assert (a.per_inference == b.per_inference).all() and (a.per_stage == b.per_stage).all()
    assert a.per_stage.shape == (10, 2)
    # the stages cover the inference except the few instructions before mark 0 and after the last mark
    gap = a.per_inference - a.per_stage.sum(axis=1)
    assert (gap >= 0).all() and (gap < 60).all()


def test_bench_command_json(factory_models):
    skip_unless_runnable("mps2-an386")
    proc = pnetc("bench", str(factory_models["dense"]), "--board", "mps2-an386", "-n", "5", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = last_json(proc.stdout)
    assert res["instructions_per_inference"] > 1000
    assert res["instructions_min"] <= res["instructions_per_inference"] <= res["instructions_max"]
    assert res["flash_bytes"] > 0 and res["ram_bytes"] > 0 and res["mismatches"] == 0
    assert [s["name"] for s in res["stages"]][0] == "project"
    assert "ms" not in proc.stdout.replace("mismatches", "")
    assert "estimate" in res["cycles_estimate"]["note"]


def test_bench_text_model_on_linux(factory_models):
    skip_unless_runnable("linux-aarch64")
    proc = pnetc("bench", str(factory_models["text"]), "--board", "linux-aarch64", "-n", "5",
                 "--data", str(factory_models["text_jsonl"]), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = last_json(proc.stdout)
    assert res["instructions_per_inference"] > 0 and res["stages"][0]["name"] == "featurize+project"
