"""CLI errors name what is wrong and how to fix it (one `pnetc: error:` line, exit 2; a device
timeout exits 4). Missing tools are simulated with a PATH that hides them (symlinks to every
other program); a hanging QEMU with a fake qemu-system-arm that sleeps.
Runs as root in CI, so "not writable" uses paths that no permission bit can fix: under /proc and
under a regular file."""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path

import pytest

from tests.compiler import model_factory as mf
from tests.harden.conftest import assert_one_line_error, run_cli

HAVE_ARM = shutil.which("arm-none-eabi-gcc") is not None


def _shadow_path(dest: Path, hidden: list[str]) -> str:
    """A directory of symlinks to every program on PATH except those matching `hidden`."""
    dest.mkdir(parents=True, exist_ok=True)
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            link = dest / name
            if link.exists() or link.is_symlink() or any(fnmatch.fnmatch(name, h) for h in hidden):
                continue
            link.symlink_to(os.path.join(d, name))
    return str(dest)


@pytest.fixture(scope="module")
def data_npz(tmp_path_factory):
    return mf.write_dense_npz(tmp_path_factory.mktemp("cli-data") / "d.npz")


# ---- missing file ------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [["compile", "{m}", "-o", "{o}"], ["inspect", "{m}"],
                                 ["build", "{m}", "-b", "host", "-o", "{o}"], ["eval", "{m}", "--dataset", "digits"]])
def test_missing_model_file(tmp_path, cmd):
    m = tmp_path / "nope.onnx"
    args = [a.format(m=m, o=tmp_path / "out") for a in cmd]
    assert_one_line_error(run_cli(args), str(m), "does not exist")
    assert not (tmp_path / "out").exists()


def test_missing_data_file(ref_models, tmp_path):
    assert_one_line_error(run_cli(["run", str(ref_models["dense"]), "-b", "host", "--data", str(tmp_path / "x.npz")]),
                          "x.npz", "does not exist")


# ---- unknown board -----------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["build", "run", "bench"])
def test_unknown_board_lists_known_ones(ref_models, tmp_path, cmd):
    args = [cmd, str(ref_models["dense"]), "-b", "no-such-board"]
    args += ["-o", str(tmp_path / "o")] if cmd == "build" else ["--dataset", "digits"]
    line = assert_one_line_error(run_cli(args), "unknown board 'no-such-board'", "pnetc boards")
    for known in ("host", "mps2-an385", "microbit", "linux-aarch64"):
        assert known in line


# ---- model too big -----------------------------------------------------------------------------


@pytest.mark.skipif(not HAVE_ARM, reason="arm-none-eabi-gcc is not installed")
def test_model_too_big_for_board_gives_numbers(tmp_path):
    big = mf.make_dense_model(tmp_path / "big.onnx", num_bits=512, hidden=(560,))  # ~290 KB of int8 weights
    line = assert_one_line_error(run_cli(["build", str(big), "-b", "microbit", "-o", str(tmp_path / "o")], 120),
                                 "does not fit on microbit", "262,144", "weights")
    assert "smaller model" in line or "more memory" in line


# ---- missing toolchain / QEMU ------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_cross_path(tmp_path_factory):
    return _shadow_path(tmp_path_factory.mktemp("path-nocross"),
                        ["arm-none-eabi-*", "aarch64-linux-gnu-*", "arm-linux-gnueabihf-*", "qemu-*"])


@pytest.fixture(scope="module")
def no_qemu_path(tmp_path_factory):
    return _shadow_path(tmp_path_factory.mktemp("path-noqemu"), ["qemu-*"])


@pytest.mark.parametrize("board, tool, packages", [
    ("mps2-an385", "arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi"),
    ("linux-aarch64", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    ("linux-armv7", "arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf"),
])
def test_missing_toolchain_names_apt_package(ref_models, tmp_path, monkeypatch, no_cross_path, board, tool, packages):
    monkeypatch.setenv("PATH", no_cross_path)
    line = assert_one_line_error(run_cli(["build", str(ref_models["dense"]), "-b", board, "-o", str(tmp_path / "o")]),
                                 tool, "apt-get install", packages)
    assert "qemu" not in line  # building needs no QEMU
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not HAVE_ARM, reason="arm-none-eabi-gcc is not installed")
@pytest.mark.parametrize("board, qemu, package", [("mps2-an385", "qemu-system-arm", "qemu-system-arm"),
                                                  ("linux-aarch64", "qemu-aarch64", "qemu-user")])
def test_missing_qemu_names_apt_package(ref_models, data_npz, monkeypatch, no_qemu_path, board, qemu, package):
    if board == "linux-aarch64" and shutil.which("aarch64-linux-gnu-gcc") is None:
        pytest.skip("aarch64-linux-gnu-gcc is not installed")
    monkeypatch.setenv("PATH", no_qemu_path)
    for cmd in ("run", "bench"):
        assert_one_line_error(run_cli([cmd, str(ref_models["dense"]), "-b", board, "--data", str(data_npz)]),
                              f"{qemu} not installed", "apt-get install", package)


# ---- QEMU timeout ------------------------------------------------------------------------------


@pytest.mark.skipif(not HAVE_ARM, reason="arm-none-eabi-gcc is not installed")
def test_qemu_timeout_is_exit_4_and_says_what_to_do(ref_models, data_npz, tmp_path, monkeypatch):
    fake = tmp_path / "fakebin"
    fake.mkdir()
    q = fake / "qemu-system-arm"
    q.write_text("#!/bin/sh\necho 'fake qemu: hangs'\nexec sleep 600\n")
    q.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    res = run_cli(["run", str(ref_models["dense"]), "-b", "mps2-an385", "--data", str(data_npz), "--limit", "2",
                   "--timeout", "1.5"], 120)
    assert res.code == 4, res.stderr
    first = res.stderr.splitlines()[0]
    assert first.startswith("pnetc: error: timeout:") and "did not finish within 1.5 s" in first
    assert "raise --timeout" in first and "Traceback" not in res.stderr


# ---- output directory not writable -------------------------------------------------------------


@pytest.fixture
def a_file(tmp_path):
    f = tmp_path / "plainfile"
    f.write_text("not a directory\n")
    return f


@pytest.mark.parametrize("where", ["proc", "under_file", "is_file"])
def test_compile_output_not_writable(ref_models, a_file, where):
    out = {"proc": Path("/proc/pnetc-not-writable/out"), "under_file": a_file / "out", "is_file": a_file}[where]
    needles = {"proc": ["cannot create the output directory", "-o"],
               "under_file": ["cannot create the output directory", "is a file", "-o"],
               "is_file": ["exists and is not a directory"]}[where]
    assert_one_line_error(run_cli(["compile", str(ref_models["dense"]), "-o", str(out)]), *needles)
    assert a_file.read_text() == "not a directory\n"


@pytest.mark.parametrize("cmd", ["build", "run"])
def test_board_output_not_writable(ref_models, data_npz, a_file, cmd):
    args = [cmd, str(ref_models["dense"]), "-b", "host", "-o", str(a_file / "out")]
    if cmd == "run":
        args += ["--data", str(data_npz), "--limit", "2"]
    assert_one_line_error(run_cli(args, 120), "output directory", "is a file")


def test_verify_keep_not_writable(ref_models, data_npz):
    assert_one_line_error(run_cli(["verify", str(ref_models["dense"]), "--data", str(data_npz), "--limit", "2",
                                   "--keep", "/proc/pnetc-not-writable/keep"], 120), "/proc/pnetc-not-writable")
