"""`pnetc build -o DIR`: the fit check happens before anything is swapped in, and no file of an
old build is left beside a new one."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.outputs.conftest import assert_one_line_error, no_temporaries, run_cli, snapshot, user_folder, \
    user_files_intact

needs_arm = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")


def build_cli(model, board, out, *extra):
    return run_cli(["build", str(model), "-b", board, "-o", str(out), *extra], 240)


@needs_arm
def test_refused_build_leaves_previous_build_intact(tmp_path, small_models):
    out = tmp_path / "fw"
    r = build_cli(small_models["small"], "microbit", out)
    assert r.code == 0, r.stderr
    assert {"firmware.elf", "firmware.bin", "firmware.map", "size_report.json"} <= {p.name for p in out.iterdir()}
    before = snapshot(out)
    assert_one_line_error(build_cli(small_models["too_big"], "microbit", out), "does not fit on microbit")
    assert snapshot(out) == before  # old firmware, old sources, old report: all as they were
    no_temporaries(out)


@needs_arm
def test_new_build_leaves_no_file_of_the_old_one(tmp_path, small_models):
    out = tmp_path / "fw"
    assert build_cli(small_models["small"], "microbit", out).code == 0
    r = build_cli(small_models["other"], "host", out)
    assert r.code == 0, r.stderr
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "firmware.bin" not in names and "firmware.map" not in names  # bare-metal files of the old build
    report = json.loads((out / "size_report.json").read_text())
    assert report["board"] == "host" and report["elf"] == str(out.resolve() / "firmware.elf")
    assert (out / "firmware.elf").is_file()


def test_build_beside_user_files(tmp_path, small_models):
    out = user_folder(tmp_path / "project")
    before = snapshot(out)
    assert_one_line_error(build_cli(small_models["small"], "host", out), "is not a pnetc output", "--force")
    assert snapshot(out) == before
    r = build_cli(small_models["small"], "host", out, "--force")
    assert r.code == 0, r.stderr
    user_files_intact(out)
    assert json.loads((out / "size_report.json").read_text())["elf"] == str(out.resolve() / "firmware.elf")
