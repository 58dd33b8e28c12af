"""Faults, hangs and models that do not fit: each fails loudly, with a message naming what happened."""

from __future__ import annotations

import time

import pytest

from pnetc.targets.boards import get_board
from pnetc.targets.build import ModelDoesNotFit, build_and_measure
from pnetc.targets.run import DeviceError, run_samples

from .conftest import pnetc, skip_unless_runnable
from .toy_model import ToyModel, toy_inputs

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("name", ["mps2-an386", "microbit", "mps2-an505", "linux-aarch64", "host"])
def test_faulting_firmware_is_reported(name, tmp_path):
    skip_unless_runnable(name)
    with pytest.raises(DeviceError) as info:
        run_samples(get_board(name), ToyModel(variant="fault"), list(toy_inputs(3)), tmp_path, timeout_s=30)
    assert info.value.kind == "fault"
    msg = str(info.value)
    assert msg.startswith("fault:") and name in msg and "0 of 3 samples" in msg
    if get_board(name).bare_metal:
        assert "faulted in toy_predict()" in msg
    if get_board(name).bare_metal:
        assert "pnet: fault: HardFault" in msg and "pc=0x" in msg  # the firmware's own report


@pytest.mark.parametrize("name", ["mps2-an386", "linux-armv7"])
def test_hung_firmware_is_killed_at_its_timeout(name, tmp_path):
    skip_unless_runnable(name)
    start = time.monotonic()
    with pytest.raises(DeviceError) as info:
        run_samples(get_board(name), ToyModel(variant="hang"), list(toy_inputs(2)), tmp_path, timeout_s=2.0)
    elapsed = time.monotonic() - start
    assert info.value.kind == "timeout" and "did not finish within 2 s" in str(info.value)
    assert elapsed < 15


def test_too_big_model_is_refused_with_numbers(tmp_path):
    board = get_board("microbit")
    if not board.can_build:
        pytest.skip("arm-none-eabi-gcc not installed")
    with pytest.raises(ModelDoesNotFit) as info:
        build_and_measure(board, ToyModel(weight_rows=300_000), tmp_path, measure_stack=False)
    msg = str(info.value)
    assert "does not fit on microbit" in msg and "262,144" in msg and "flash needs" in msg


def test_too_big_ram_is_refused(tmp_path):
    """A buffer bigger than the nRF51's 16 KB RAM: the RAM half of the fit check."""
    board = get_board("microbit")
    if not board.can_build:
        pytest.skip("arm-none-eabi-gcc not installed")
    with pytest.raises(ModelDoesNotFit) as info:
        build_and_measure(board, ToyModel(), tmp_path, max_input_bytes=20_000, measure_stack=False)
    assert "RAM needs" in str(info.value) and "16,384" in str(info.value)


def test_build_command_refuses_too_big_export_with_exit_2(tmp_path, factory_models):
    pytest.importorskip("onnx")
    if not get_board("microbit").can_build:
        pytest.skip("arm-none-eabi-gcc not installed")
    from tests.compiler import model_factory as mf

    big = mf.make_dense_model(tmp_path / "big.onnx", num_bits=2048, hidden=(160,))
    proc = pnetc("build", str(big), "--board", "microbit", "-o", str(tmp_path / "fw"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("pnetc: error: the model does not fit on microbit: flash needs")
    assert "262,144" in proc.stderr and "weights" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_build_command_reports_sizes(tmp_path, factory_models):
    skip_unless_runnable("mps2-an386")
    proc = pnetc("build", str(factory_models["dense"]), "--board", "mps2-an386", "-o", str(tmp_path / "fw"), "--json")
    assert proc.returncode == 0, proc.stderr
    from .conftest import last_json

    res = last_json(proc.stdout)
    assert res["fits"] and res["flash_weight_bytes"] > 0
    assert res["flash_bytes"] == res["flash_code_bytes"] + res["flash_weight_bytes"]
    assert res["ram_bytes"] >= res["ram_arena_bytes"] > 0
    assert 0 < res["stack_high_water_bytes"] < 4096
    for suffix in ("elf", "bin", "map"):
        assert (tmp_path / "fw" / f"firmware.{suffix}").is_file()


@pytest.mark.parametrize("name", ["nucleo-f446re", "nrf52840-dk", "stm32h743", "rp2040"])
def test_build_only_boards_build(name, tmp_path):
    board = get_board(name)
    if not board.can_build:
        pytest.skip("arm-none-eabi-gcc not installed")
    result = build_and_measure(board, ToyModel(), tmp_path)
    assert result.size.fits and result.size.stack_high_water is None
    assert result.firmware.bin.stat().st_size > 0


def test_run_refuses_a_model_too_big_for_the_board_with_numbers(tmp_path):
    board = get_board("microbit")
    if not board.can_build:
        pytest.skip("arm-none-eabi-gcc not installed")
    with pytest.raises(ModelDoesNotFit, match="flash needs .* but microbit has 262,144"):
        run_samples(board, ToyModel(weight_rows=300_000), list(toy_inputs(2)), tmp_path)


def test_run_names_the_input_buffer_when_a_long_text_does_not_fit(tmp_path, factory_models):
    """The firmware of a run holds its longest text whole: when that buffer is what overflows the
    board's RAM, the refusal says so instead of blaming the model alone."""
    if not get_board("microbit").can_build:
        pytest.skip("arm-none-eabi-gcc not installed")
    import json

    from pnetc import api

    rows = [json.loads(line) for line in factory_models["text_jsonl"].read_text().splitlines()]
    data = tmp_path / "long.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            text = row["text"] * (40_000 // len(row["text"]) + 1) if i == 0 else row["text"]
            f.write(json.dumps({"text": text, "label": row["label"], "split": "test" if i < 3 else "train"}) + "\n")
    with pytest.raises(ModelDoesNotFit, match="RAM needs") as info:
        api.run(factory_models["text"], "microbit", data=data)
    assert "this run's input buffer" in str(info.value) and "\n" not in str(info.value)
