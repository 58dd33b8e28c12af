"""The Python API alone drives the whole pipeline; errors are one type; the CLI's --json/--quiet."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pnetc


def _cli(*args: str, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pnetc", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def _needs_board(name: str = "mps2-an386") -> None:
    from pnetc.targets.boards import get_board

    missing = get_board(name).missing_tools()
    if missing:
        pytest.skip(f"{name}: {', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("api") / "digits"
    return pnetc.train("digits", out=out, epochs=3, tables=10, bits_per_table=8, fc=[32], progress=False)


def test_import_is_light():
    code = ("import sys, pnetc; assert pnetc.__version__; pnetc.PnetcError; "
            "assert 'torch' not in sys.modules and 'onnx' not in sys.modules, sorted(sys.modules); "
            "pnetc.load; pnetc.compile; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_api_names_are_not_shadowed_by_submodules():
    """No submodule is named like an API function, so importing the stages never rebinds them."""
    import pnetc.evaluate  # noqa: F401
    import pnetc.measure.benchmark  # noqa: F401
    import pnetc.training  # noqa: F401
    from pnetc import api

    for name in pnetc.__all__:
        if name not in ("PnetcError", "__version__"):
            assert getattr(pnetc, name) is getattr(api, name), name
    package_dir = Path(pnetc.__file__).parent
    shadowing = [n for n in pnetc.__all__ if (package_dir / f"{n}.py").exists() or (package_dir / n).is_dir()]
    assert shadowing == []


@pytest.mark.qemu
def test_whole_pipeline_through_the_api(trained, tmp_path):
    _needs_board()
    assert trained.model.is_file() and 0.5 < trained.accuracy <= 1.0 and trained.projection_bits == 80
    model = pnetc.load(trained)
    assert model.labels == tuple(str(i) for i in range(10)) and model.input_size == 64
    assert model.num_bits == 80 and model.projection["T"] == 10 and model.training["epochs"] == 3
    assert model.accuracy == trained.accuracy

    compiled = pnetc.compile(model, tmp_path / "c", name="digits", board="mps2-an386")
    assert compiled.header.name == "digits.h" and all(p.is_file() for p in compiled.files)
    assert compiled.weight_bytes > 0 and compiled.arena_bytes > 0 and compiled.num_classes == 10
    from pnetc.datasets import load_dataset

    ds = load_dataset("digits")
    ref = compiled.reference.run(ds.x_test)

    checked = pnetc.verify(trained.model, limit=120)
    assert checked.ok and checked.samples == 120 and len(checked.builds) == 3

    built = pnetc.build(model, "mps2-an386", tmp_path / "fw")
    assert built.fits and built.elf.is_file() and built.size_report.is_file()
    assert built.flash_bytes == built.flash_code_bytes + built.flash_weight_bytes
    assert built.flash_weight_bytes == compiled.weight_bytes and 0 < built.stack_high_water_bytes < 4096

    ran = pnetc.run(trained, "mps2-an386")  # the model records digits
    assert ran.ok and ran.mismatches == 0 and ran.samples == len(ds.y_test) and ran.dataset == "digits"
    assert ran.accuracy_device == ran.accuracy_reference == pytest.approx(np.mean(ref.predictions == ds.y_test))

    benched = pnetc.bench(model, "mps2-an386", n=5, dataset="digits")
    assert benched.ok and benched.samples == 5 and benched.core == "cortex-m4"
    assert benched.instructions_min <= benched.instructions_per_inference <= benched.instructions_max
    assert benched.instructions_min > 1000 and [s["name"] for s in benched.stages][0] == "project"
    assert benched.flash_bytes == built.flash_bytes
    # one meaning of RAM in build and bench: static + stack high-water
    assert built.ram_bytes == built.ram_static_bytes + built.stack_high_water_bytes
    assert benched.ram_bytes == benched.ram_static_bytes + benched.stack_high_water_bytes
    assert benched.ram_static_bytes == built.ram_static_bytes

    for result in (trained, model, compiled, checked, built, ran, benched):
        json.dumps(result.to_dict())
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.board = "x"  # type: ignore[misc]


def test_errors_are_pnetc_errors(tmp_path, trained):
    with pytest.raises(pnetc.PnetcError, match="does not exist"):
        pnetc.load(tmp_path / "missing.onnx")
    with pytest.raises(pnetc.PnetcError, match="precision"):
        pnetc.compile(trained, tmp_path / "c", precision="int4")
    with pytest.raises(pnetc.PnetcError, match="C identifier"):
        pnetc.compile(trained, tmp_path / "c", name="my-model")
    with pytest.raises(pnetc.PnetcError, match="unknown board"):
        pnetc.compile(trained, tmp_path / "c", board="no-such-board")
    with pytest.raises(pnetc.PnetcError, match="unknown board"):
        pnetc.run(trained, "no-such-board")
    with pytest.raises(pnetc.PnetcError, match="expected a model path"):
        pnetc.build(42, "mps2-an386", tmp_path / "fw")
    with pytest.raises(pnetc.PnetcError, match="--epochs"):
        pnetc.train("digits", out=tmp_path / "t", epochs=0)
    with pytest.raises(pnetc.PnetcError, match="grid"):
        pnetc.sweep("digits", tmp_path / "s", grid="T=eight")


def test_cli_error_is_one_line_exit_2(tmp_path):
    proc = _cli("compile", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "c"))
    assert proc.returncode == 2 and proc.stderr.startswith("pnetc: error: ") and proc.stderr.count("\n") == 1


def test_quiet_silences_progress_and_json_stays_last(tmp_path, capsys):
    pytest.importorskip("torch")
    from pnetc import cli
    from pnetc.progress import set_quiet

    args = ["train", "--epochs", "1", "-T", "4", "--fc", "0", "--json", "--out"]
    try:
        for quiet in (False, True):
            with pytest.raises(SystemExit) as exit_info:
                cli.main([*(["--quiet"] if quiet else []), *args, str(tmp_path / str(quiet))])
            out, err = capsys.readouterr()
            assert exit_info.value.code == 0, err
            assert json.loads(out.strip().splitlines()[-1])["epochs"] == 1
            assert ("epoch 1:" in err) != quiet, err
            if quiet:
                assert err == ""
    finally:
        set_quiet(False)


def test_demo_exit_code_follows_mismatches(monkeypatch, capsys, tmp_path):
    from pnetc import cli, demo

    def fake(mismatches):
        return demo.DemoResult(
            board="mps2-an386", core="cortex-m4", dataset="digits", samples=359, mismatches=mismatches,
            accuracy_float=0.94, accuracy_reference=0.93, accuracy_device=0.93, flash_bytes=100, flash_code_bytes=40,
            flash_weight_bytes=60, ram_bytes=80, ram_static_bytes=50, stack_high_water_bytes=30,
            instructions_per_inference=1234.5, bench_samples=20, seconds={"total": 1.0},
            paths={"model": tmp_path / "m.onnx"})

    for mismatches, code in ((0, 0), (3, 1)):
        monkeypatch.setattr(demo, "run_demo", lambda *a, _m=mismatches, **k: fake(_m))
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["--quiet", "demo", "--json"])
        assert exit_info.value.code == code
        out, err = capsys.readouterr()
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["mismatches"] == mismatches and summary["instructions_per_inference"] == 1234.5
        assert ("pnetc: error: mismatch" in err) == bool(mismatches)


@pytest.mark.slow
@pytest.mark.qemu
def test_demo_command(tmp_path):
    _needs_board()
    pytest.importorskip("torch")
    proc = _cli("demo", "--epochs", "2", "--out", "demo", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["mismatches"] == 0 and res["samples"] == 359 and res["board"] == "mps2-an386"
    assert res["accuracy_device"] == res["accuracy_reference"] > 0.5
    assert res["flash_bytes"] > res["flash_weight_bytes"] > 0 and res["instructions_per_inference"] > 1000
    assert (tmp_path / "demo" / "model" / "digits.h").is_file() and (tmp_path / "demo" / "build" / "firmware.elf").is_file()
    assert "pnetc demo: 5/5" in proc.stderr


def test_the_api_returns_the_stages_results():
    """One class per result: the API returns what the stage built, it does not re-wrap a dict."""
    import typing

    from pnetc import api, evaluate
    from pnetc.measure import benchmark
    from pnetc.targets import build
    from pnetc.training import sweep

    stage_of = {"VerifyResult": evaluate, "RunResult": evaluate, "BenchResult": benchmark, "BuildResult": build,
                "SweepResult": sweep}
    for name, module in stage_of.items():
        assert getattr(pnetc, name) is getattr(module, name), name
    lazily = {name: getattr(api, name) for name in stage_of}  # api loads them on first use
    hints = {f: typing.get_type_hints(getattr(api, f), localns=lazily)["return"]
             for f in ("verify", "run", "bench", "build", "sweep")}
    assert hints == {"verify": evaluate.VerifyResult, "run": evaluate.RunResult, "bench": benchmark.BenchResult,
                     "build": build.BuildResult, "sweep": sweep.SweepResult}
    assert typing.get_type_hints(evaluate.verify_model)["return"] is evaluate.VerifyResult
    assert typing.get_type_hints(evaluate.run_model)["return"] is evaluate.RunResult
    assert typing.get_type_hints(benchmark.bench_model)["return"] is benchmark.BenchResult
    assert typing.get_type_hints(build.build_model)["return"] is build.BuildResult
    assert typing.get_type_hints(sweep.run_sweep)["return"] is sweep.SweepResult


def test_run_result_json_and_status():
    from pnetc.evaluate import RunResult
    from pnetc.targets.compare import Mismatch

    clean = RunResult.compared("host", "int8", 3, [], 1.0, 1.0, 96, 0.1234, "digits")
    assert clean.ok and clean.status == "ok" and clean.to_dict()["mismatch_kinds"] == {
        "bits": 0, "scores": 0, "prediction": 0}
    bad = RunResult.compared("host", "int8", 3, [Mismatch(1, ["scores", "prediction"], 2, 3)], 1.0, 0.5, 96, 0.1)
    d = bad.to_dict()
    assert not bad.ok and d["status"] == "mismatch" and d["mismatches"] == 1
    assert d["mismatch_kinds"] == {"bits": 0, "scores": 1, "prediction": 1} and d["first_mismatches"][0]["index"] == 1
    json.dumps(d)
