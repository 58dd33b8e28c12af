"""No command deletes or overwrites a file it did not write.

A folder of the user's own files goes through every writing command: without --force each one
refuses (exit 2, one line) and leaves the folder byte-identical; with --force it writes beside the
user's files, twice (the second run replaces the first one's output), and every user file is
byte-identical afterwards."""

from __future__ import annotations

import pytest

from tests.outputs.conftest import assert_one_line_error, no_temporaries, run_cli, snapshot, user_folder

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def _commands(m):
    model, data = str(m["small"]), str(m["data"])
    return {
        "compile": ["compile", model, "-o"],
        "compile-arduino": ["compile", model, "--package", "arduino", "-o"],
        "compile-cmake": ["compile", model, "--package", "cmake", "-o"],
        "compile-zephyr": ["compile", model, "--package", "zephyr", "-o"],
        "build": ["build", model, "-b", "host", "-o"],
        "run": ["run", model, "-b", "host", "--data", data, "--limit", "8", "-o"],
        "verify": ["verify", model, "--data", data, "--limit", "8", "--keep"],
        "train": ["train", "--dataset", "digits", "--epochs", "1", "-T", "4", "-d", "8", "--fc", "16", "--out"],
    }


COMMANDS = ["compile", "compile-arduino", "compile-cmake", "compile-zephyr", "build", "run", "verify", "train"]


@pytest.mark.parametrize("command", COMMANDS)
def test_user_files_survive(tmp_path, small_models, command):
    if command == "train" and not HAVE_TORCH:
        pytest.skip("training needs torch")
    args = _commands(small_models)[command]
    out = user_folder(tmp_path / "project")
    before = snapshot(out)
    assert_one_line_error(run_cli([*args, str(out)], 240), str(out), "--force")
    assert snapshot(out) == before
    no_temporaries(out)
    if command == "train":  # the user's model.onnx has the name train writes: refused even with --force
        assert_one_line_error(run_cli([*args, str(out), "--force"], 240), "model.onnx", "will not overwrite")
        assert snapshot(out) == before
        (out / "model.onnx").rename(tmp_path / "model.onnx")  # what the message says to do
        before = snapshot(out)
    for attempt in (1, 2):  # the second run replaces the first one's output
        r = run_cli([*args, str(out), "--force"], 240)
        assert r.code == 0, f"{command} #{attempt}: {r.stderr}"
        assert {rel: h for rel, h in snapshot(out).items() if rel in before} == before
        no_temporaries(out)
    assert set(before) < set(snapshot(out))  # pnetc wrote beside them


@pytest.mark.parametrize("args", [["demo", "-b", "host", "--epochs", "1", "-o"],
                                  ["sweep", "--dataset", "digits", "--grid", "T=2", "d=8", "fc=0", "--epochs", "1",
                                   "--out"]], ids=["demo", "sweep"])
def test_long_commands_refuse_a_folder_of_user_files_before_they_start(tmp_path, args):
    if not HAVE_TORCH:
        pytest.skip("needs torch")
    out = user_folder(tmp_path / "project")
    before = snapshot(out)
    assert_one_line_error(run_cli([*args, str(out)], 60), "is not a pnetc output", "--force")
    assert snapshot(out) == before
