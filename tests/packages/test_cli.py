"""`pnetc compile ... --package`: the command line, errors, replacement and determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def pnetc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pnetc", *args], capture_output=True, text=True, timeout=120)


def tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("package, top", [("cmake", "CMakeLists.txt"), ("zephyr", "zephyr/module.yml"),
                                          ("arduino", "library.properties")])
def test_compile_package_json_and_rerun(tmp_path, models, package, top):
    out = tmp_path / "pkg"
    r = pnetc("compile", str(models["dense"]), "-o", str(out), "--name", "digits", "--package", package, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert info["package"] == package and all(s.startswith("src/") for s in info["sources"])
    assert all((out / s).is_file() for s in info["sources"]) and (out / top).is_file()
    first = tree(out)
    # a previous package is pnetc output, so compiling again replaces it; the bytes are the same
    r = pnetc("compile", str(models["dense"]), "-o", str(out), "--name", "digits", "--package", package)
    assert r.returncode == 0, r.stderr
    assert tree(out) == first


def test_unknown_package_is_one_line_error(tmp_path, models):
    r = pnetc("compile", str(models["dense"]), "-o", str(tmp_path / "x"), "--package", "conan")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "pnetc: error: unknown package 'conan'; choose one of cmake, zephyr, arduino "
        "(or leave --package out for the plain files)"]
    assert not (tmp_path / "x").exists()


def test_package_never_replaces_user_files(tmp_path, models):
    out = tmp_path / "mylib"
    out.mkdir()
    (out / "library.properties").write_text("name=mine\n")
    r = pnetc("compile", str(models["dense"]), "-o", str(out), "--package", "arduino")
    assert r.returncode == 2 and "is not a pnetc output" in r.stderr
    assert (out / "library.properties").read_text() == "name=mine\n"
