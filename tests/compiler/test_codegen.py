"""Codegen: golden files, determinism, strict gcc/clang builds, compile time."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from pnetc.compiler import compile_model
from tests.compiler import model_factory as mf
from tests.compiler.conftest import have

GOLDEN = Path(__file__).parent / "golden"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Werror", "-pedantic"]
GOLDEN_CASES = {"tiny_int8": dict(precision="int8"), "tiny_f32_table": dict(precision="float32", projection="table")}


def _tiny(tmp_path: Path) -> Path:
    d = tmp_path / "golden-src"
    d.mkdir(exist_ok=True)
    return mf.make_dense_model(d / "tiny.onnx", num_bits=40, hidden=(8,), num_classes=3, input_size=16, seed=9)


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_files(tmp_path, case):
    """Refresh with PNETC_UPDATE_GOLDEN=1 after an intended change, then review the diff."""
    cm = compile_model(_tiny(tmp_path), tmp_path / case, name="tiny", **GOLDEN_CASES[case])
    files = {k: v for k, v in cm.files.items() if not k.startswith(("runtime/", "pnet/"))}
    ref = GOLDEN / case
    if os.environ.get("PNETC_UPDATE_GOLDEN") == "1":
        ref.mkdir(parents=True, exist_ok=True)
        for old in ref.iterdir():
            old.unlink()
        for rel, text in files.items():
            (ref / rel).write_text(text)
    assert ref.is_dir(), "golden files missing: run with PNETC_UPDATE_GOLDEN=1"
    assert sorted(p.name for p in ref.iterdir()) == sorted(files)
    for rel, text in files.items():
        assert (ref / rel).read_text() == text, f"{case}/{rel} differs from the golden copy"


@pytest.mark.parametrize("precision,projection", [("int8", "hash"), ("binary", "table"), ("float32", "hash")])
def test_deterministic(tmp_path, models, precision, projection):
    a = compile_model(models["ternary"], tmp_path / "a", precision=precision, projection=projection)
    b = compile_model(models["ternary"], tmp_path / "b", precision=precision, projection=projection)
    files_a = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel


def test_provenance_and_api(tmp_path, models):
    cm = compile_model(models["text"], tmp_path / "t", name="lang", precision="int8")
    h = cm.header.read_text()
    for macro in ("LANG_INPUT_SIZE", "LANG_NUM_CLASSES", "LANG_NUM_BITS", "LANG_NUM_STAGES", "LANG_ARENA_BYTES",
                  "LANG_WEIGHT_BYTES"):
        assert f"#define {macro}" in h
    assert "int lang_predict_text(const uint8_t *utf8, size_t len, lang_score_t *scores);" in h
    assert "const uint32_t *lang_last_bits(void);" in h
    c = (cm.out_dir / "lang.c").read_text()
    assert "sha256" in c and "pnetc 0." in c and "precision=int8" in c
    assert "malloc(" not in c and "printf(" not in c
    one_shot, stream = c.split("int lang_text_begin(", 1)
    assert one_shot.count("PNET_STAGE_MARK(") == cm.num_stages + 1
    assert stream.count("PNET_STAGE_MARK(") == cm.num_stages  # the streaming predict: no stage 0 (projection)
    assert "int lang_text_feed(lang_text_stream *stream, const uint8_t *chunk, size_t len);" in h
    w = (cm.out_dir / "lang_weights.c").read_text()
    assert "static const int8_t" in w and "PNET_WEIGHT_SECTION" in w
    assert f"#define LANG_WEIGHT_BYTES  {cm.weight_bytes}" in h


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("model,precision", [("dense", "int8"), ("ternary", "binary"), ("text", "float32"),
                                             ("foreign", "float32")])
def test_strict_build(tmp_path, models, cc, model, precision):
    if not have(cc):
        pytest.skip(f"{cc} not installed")
    cm = compile_model(models[model], tmp_path / "m", precision=precision)
    for src in cm.sources:
        r = subprocess.run([cc, *STRICT, "-I", str(cm.out_dir), "-c", str(src), "-o", str(tmp_path / "x.o")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_makefile_and_cmake(tmp_path, models):
    cm = compile_model(models["dense"], tmp_path / "m", name="digits")
    listed = subprocess.run(["make", "-s", "-f", "-", "print"], capture_output=True, text=True, check=True,
                            input=f"include {cm.out_dir}/digits.mk\nprint:\n\t@echo $(DIGITS_SRCS)\n").stdout.split()
    assert listed == [str(s) for s in cm.sources]
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(
        '#include "digits.h"\nint main(void){ static digits_input_t x[DIGITS_INPUT_SIZE]; digits_score_t s[DIGITS_NUM_CLASSES];\n'
        " return digits_predict(x, s) < 0; }\n")
    (app / "Makefile").write_text(
        f"include {cm.out_dir}/digits.mk\nCFLAGS += $(DIGITS_CFLAGS) -std=c99 -Wall -Werror\n"
        "app: main.c $(DIGITS_SRCS)\n\t$(CC) $(CFLAGS) $^ -o $@ $(DIGITS_LDLIBS)\n")
    r = subprocess.run(["make", "-s", "-C", str(app), "app"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert subprocess.run([str(app / "app")]).returncode == 0
    assert "add_library(digits STATIC" in (cm.out_dir / "CMakeLists.txt").read_text()


def test_compile_time_1mb(tmp_path):
    """A 1 MB model (256K float weights) compiles in under a second."""
    p = mf.make_dense_model(tmp_path / "big.onnx", num_bits=512, hidden=(480,), num_classes=10, input_size=784)
    assert p.stat().st_size > 1_000_000
    best = min(_timed(lambda: compile_model(p, tmp_path / "big", precision="int8")) for _ in range(2))
    assert best < 1.0, f"compile took {best:.2f} s"


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_inspect_and_compile_cli(tmp_path, models):
    import json
    import sys

    r = subprocess.run([sys.executable, "-m", "pnetc", "inspect", str(models["ternary"]), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert [l["op"] for l in info["layers"]] == ["HashProjection", "Dense", "Dense", "Dense"]
    assert info["arena_bytes"] >= max(b["bytes"] for b in info["buffers"])
    r = subprocess.run([sys.executable, "-m", "pnetc", "inspect", str(models["ternary"])], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "memory plan" in r.stdout
    r = subprocess.run([sys.executable, "-m", "pnetc", "compile", str(models["ternary"]), "-o", str(tmp_path / "o"),
                        "--json"], capture_output=True, text=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["weight_bytes"] == info["weight_bytes_estimate"]
    assert (tmp_path / "o" / "model.h").is_file()


def test_memory_plan_no_overlap(models):
    from pnetc.compiler import build_graph

    for precision in ("int8", "float32", "binary"):
        plan = build_graph(models["ternary"], precision=precision).plan
        bufs = list(plan.buffers.values())
        for i, a in enumerate(bufs):
            assert a.offset % plan.alignment == 0 and a.offset + a.nbytes <= plan.arena_bytes
            for b in bufs[i + 1:]:
                if a.first <= b.last and b.first <= a.last:  # live together -> disjoint
                    assert a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset


def test_cmake_subdirectory(tmp_path, models):
    if not have("cmake"):
        pytest.skip("cmake not installed")
    compile_model(models["text"], tmp_path / "model", precision="float32")
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_subdirectory(model)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE model)\n")
    (tmp_path / "main.c").write_text(
        '#include "model.h"\nint main(void) { model_score_t s[MODEL_NUM_CLASSES];\n'
        '  return model_predict((const model_input_t *)"hello world", s) < 0; }\n')
    for cmd in (["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build")], ["cmake", "--build", str(tmp_path / "build")]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    assert subprocess.run([str(tmp_path / "build" / "app")]).returncode == 0
