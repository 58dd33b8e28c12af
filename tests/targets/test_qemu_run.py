"""Every runnable board runs models and matches the reference exactly (toy model and real exports)."""

from __future__ import annotations

import numpy as np
import pytest

from pnetc.targets.boards import get_board
from pnetc.targets.compare import compare
from pnetc.targets.run import run_samples

from .conftest import last_json, pnetc, runnable_boards, skip_unless_runnable
from .toy_model import ToyModel, toy_inputs

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("name", runnable_boards())
def test_toy_model_matches_on_every_board(name, tmp_path):
    skip_unless_runnable(name)
    model = ToyModel()
    x = toy_inputs(64)
    device, _ = run_samples(get_board(name), model, list(x), tmp_path)
    assert len(device.predictions) == 64
    assert compare(device, model.reference.run(x), "int8") == []
    assert (device.stack_bytes > 0).all() and (device.stack_bytes < 4096).all()


@pytest.mark.parametrize("name", ["mps2-an385", "microbit", "mps2-an386", "mps3-an547", "linux-armv7"])
def test_toy_float_scores_soft_and_hard_float(name, tmp_path):
    skip_unless_runnable(name)
    model = ToyModel(score_dtype="float32")
    x = toy_inputs(32, seed=1)
    device, _ = run_samples(get_board(name), model, list(x), tmp_path)
    assert device.scores.dtype == np.float32
    assert compare(device, model.reference.run(x), "float32") == []


def test_compare_catches_each_kind_of_difference(tmp_path):
    skip_unless_runnable("host")
    model = ToyModel()
    x = toy_inputs(8)
    device, _ = run_samples(get_board("host"), model, list(x), tmp_path)
    ref = model.reference.run(x)
    device.bits[1, 3] ^= 1
    device.scores[2, 0] = np.int8(device.scores[2, 0] ^ 1)
    device.predictions[5] += 1
    found = {m.index: m.what for m in compare(device, ref, "int8")}
    assert found == {1: ["bits"], 2: ["scores"], 5: ["prediction"]}


@pytest.mark.parametrize("name", runnable_boards())
def test_real_dense_export_runs_with_zero_mismatches(name, factory_models, capsys):
    """`pnetc run --json` in-process (the CLI's own parsing is covered by the other tests)."""
    from pnetc.report import run_command

    skip_unless_runnable(name)
    rc = run_command(str(factory_models["dense"]), name, None, str(factory_models["dense_npz"]), None, "int8",
                     None, None, True)
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    res = last_json(out)
    assert res["board"] == name and res["samples"] > 0
    assert res["mismatches"] == 0 and res["status"] == "ok"
    assert res["accuracy_device"] == res["accuracy_reference"]


@pytest.mark.parametrize("name,precision", [("mps2-an386", "float32"), ("mps2-an385", "float32"),
                                            ("microbit", "binary"), ("linux-aarch64", "float32")])
def test_real_dense_export_other_precisions(name, precision, factory_models):
    skip_unless_runnable(name)
    proc = pnetc("run", str(factory_models["dense"]), "--board", name, "--data", str(factory_models["dense_npz"]),
                 "--precision", precision, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert last_json(proc.stdout)["mismatches"] == 0


@pytest.mark.parametrize("name", ["microbit", "mps2-an386", "linux-aarch64"])
def test_real_text_export(name, factory_models):
    skip_unless_runnable(name)
    proc = pnetc("run", str(factory_models["text"]), "--board", name, "--data", str(factory_models["text_jsonl"]),
                 "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = last_json(proc.stdout)
    assert res["mismatches"] == 0 and res["samples"] > 10
