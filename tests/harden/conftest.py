"""Shared helpers for the hardening tests: reference models, an in-process CLI runner with a
time bound, and the one-line-error check."""

from __future__ import annotations

import contextlib
import io
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.compiler import model_factory as mf

ERROR_PREFIX = "pnetc: error: "


@pytest.fixture(scope="session")
def ref_models(tmp_path_factory):
    """The three reference models of the fuzz targets plus a foreign (plain float) MLP."""
    d = tmp_path_factory.mktemp("harden-models")
    return {
        "dense": mf.make_dense_model(d / "dense.onnx"),
        "ternary": mf.make_dense_model(d / "ternary.onnx", kind="ternary", seed=4, hidden=(24, 16)),
        "text": mf.make_text_model(d / "text.onnx"),
        "foreign": mf.make_foreign_mlp(d / "foreign.onnx"),
        "dir": d,
    }


class CaseTimeout(Exception):
    pass


@contextlib.contextmanager
def time_bound(seconds: float):
    """Fail (raise CaseTimeout) if the block runs longer than `seconds` (SIGALRM, main thread)."""
    def _alarm(signum, frame):
        raise CaseTimeout(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], seconds: float = 30.0) -> CliResult:
    """pnetc.cli.main(args) in-process, with stdout/stderr captured and a time bound.
    Any exception other than SystemExit escapes: that is a bug (a traceback for the user)."""
    from pnetc import cli

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with time_bound(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_one_line_error(res: CliResult, *needles: str) -> str:
    """Exit 2 and exactly one stderr line `pnetc: error: ...` containing every needle; no traceback."""
    lines = res.stderr.strip().splitlines()
    assert res.code == 2, f"exit {res.code}, stderr {res.stderr!r}"
    assert "Traceback" not in res.stderr
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), f"not one error line: {res.stderr!r}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]


def assert_untouched(out_dir: Path, marker: str = "keep.txt") -> None:
    """A failed compile leaves an existing output directory exactly as it was and no temporary
    siblings (compile writes to a temporary directory and renames it into place)."""
    assert out_dir.is_dir(), "the old output directory was removed"
    assert sorted(p.name for p in out_dir.iterdir()) == [marker]
    leftovers = [p.name for p in out_dir.parent.iterdir() if p.name.startswith(f".{out_dir.name}.")]
    assert leftovers == [], f"temporary directories left behind: {leftovers}"


def fresh_out(parent: Path, name: str = "out") -> Path:
    """An output directory holding one marker file."""
    import shutil

    d = parent / name
    shutil.rmtree(d, ignore_errors=True)
    for p in parent.glob(f".{name}.*"):
        shutil.rmtree(p, ignore_errors=True)
    d.mkdir(parents=True)
    (d / "keep.txt").write_text("previous build\n")
    return d


def python() -> str:
    return sys.executable


@pytest.fixture(scope="session")
def compiled_refs(ref_models, tmp_path_factory):
    """Generated C of the three reference models (as the fuzz targets build them):
    {name: CompiledModel}, compiled int8 (ternary with --projection table)."""
    from pnetc.compiler import compile_model

    d = tmp_path_factory.mktemp("harden-gen")
    return {
        "dense": compile_model(ref_models["dense"], d / "dense", name="dense"),
        "ternary_table": compile_model(ref_models["ternary"], d / "ternary_table", name="ternary_table",
                                       projection="table"),
        "text": compile_model(ref_models["text"], d / "text", name="text"),
    }
