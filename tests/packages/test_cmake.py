"""`--package cmake`: the folder builds through add_subdirectory for the host and, with the
generated toolchain file, for mps2-an386, where the firmware runs under QEMU; every answer
equals the golden reference."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pnetc.compiler import compile_model
from tests.packages.conftest import check_output, have, samples_for, samples_header

CONSUMER = Path(__file__).parent / "consumer"


def cmake_build(src: Path, build: Path, *defs: str) -> None:
    for cmd in (["cmake", "-S", str(src), "-B", str(build), *defs], ["cmake", "--build", str(build)]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stdout + r.stderr


def consumer_project(tmp_path: Path, cm, samples) -> Path:
    src = tmp_path / "consumer"
    src.mkdir()
    for f in CONSUMER.iterdir():
        (src / f.name).write_text(f.read_text())
    (src / "samples.h").write_text(samples_header(cm, samples))
    return src


def test_layout(tmp_path, models):
    cm = compile_model(models["dense"], tmp_path / "pkg", name="digits", package="cmake")
    pkg = cm.out_dir
    text = (pkg / "CMakeLists.txt").read_text()
    assert "add_library(digits STATIC" in text and "add_library(pnetc::digits ALIAS digits)" in text
    assert "PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/include>" in text
    assert " m)" not in text  # relu int8 needs no libm
    assert sorted(p.name for p in (pkg / "include").iterdir()) == ["digits.h"]
    # every source the CMakeLists names exists, and every .c in src/ is named
    listed = {line.strip().replace("${CMAKE_CURRENT_LIST_DIR}/", "") for line in text.splitlines()
              if line.strip().startswith("${CMAKE_CURRENT_LIST_DIR}/src/")}
    assert listed == {str(p.relative_to(pkg)) for p in (pkg / "src").glob("*.c")}
    assert {str(p.relative_to(pkg)) for p in cm.sources} == listed
    assert cm.header == pkg / "include" / "digits.h" and cm.include_dirs == [pkg / "include"]
    assert (pkg / "cmake" / "mps2-an386.cmake").is_file()


@pytest.mark.skipif(not have("cmake", "cc"), reason="needs cmake and a host C compiler")
@pytest.mark.parametrize("model, precision", [("dense", "int8"), ("text", "int8"), ("tanh", "float32")])
def test_host_build_and_run(tmp_path, models, model, precision):
    cm = compile_model(models[model], tmp_path / "pkg", name="clf", precision=precision, package="cmake")
    assert cm.needs_libm == (model == "tanh")
    assert ("target_link_libraries(clf PUBLIC m)" in (cm.out_dir / "CMakeLists.txt").read_text()) == cm.needs_libm
    samples = samples_for(cm)
    src = consumer_project(tmp_path, cm, samples)
    cmake_build(src, tmp_path / "build", f"-DPNETC_PACKAGE={cm.out_dir}", "-DPNETC_MODEL=clf")
    run = subprocess.run([str(tmp_path / "build" / "app")], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert check_output(cm, samples, run.stdout) == len(samples)


@pytest.mark.qemu
@pytest.mark.skipif(not have("cmake", "arm-none-eabi-gcc", "qemu-system-arm"),
                    reason="needs cmake, arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("model, precision", [("dense", "int8"), ("tanh", "float32")])
def test_mps2_an386_build_and_run(tmp_path, models, model, precision):
    from pnetc.targets.boards import get_board
    from pnetc.targets.qemu import system_command
    from pnetc.targets.toolchain import render_linker_script
    from pnetc.resources import data_dir

    board = get_board("mps2-an386")
    cm = compile_model(models[model], tmp_path / "pkg", name="clf", precision=precision, package="cmake")
    samples = samples_for(cm)
    src = consumer_project(tmp_path, cm, samples)
    ld = tmp_path / "board.ld"
    ld.write_text(render_linker_script(board))
    build = tmp_path / "build"
    cmake_build(src, build, f"-DCMAKE_TOOLCHAIN_FILE={cm.out_dir / 'cmake' / 'mps2-an386.cmake'}",
                "-DCMAKE_BUILD_TYPE=Release", f"-DPNETC_PACKAGE={cm.out_dir}", "-DPNETC_MODEL=clf",
                f"-DPNETC_RUNTIME={data_dir('runtime')}", f"-DPNETC_LINKER_SCRIPT={ld}")
    elf = build / "app"
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(elf)], capture_output=True, text=True).stdout
    # the toolchain file's board flags reached the compiler: a hard-float Cortex-M4F image
    assert "Tag_CPU_arch: v7E-M" in attrs and "Tag_ABI_VFP_args: VFP registers" in attrs, attrs
    run = subprocess.run(system_command(board, elf), capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert check_output(cm, samples, run.stdout + run.stderr) == len(samples)


@pytest.mark.skipif(not have("cmake", "cc"), reason="needs cmake and a host C compiler")
def test_two_models_in_one_program(tmp_path, models):
    """Both packages carry pnet_* kernels; as static libraries each kernel is linked once."""
    a = compile_model(models["dense"], tmp_path / "a", name="a", package="cmake")
    b = compile_model(models["text"], tmp_path / "b", name="b", precision="float32", package="cmake")
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(two C)\nadd_subdirectory(a)\nadd_subdirectory(b)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE pnetc::a pnetc::b)\n")
    x = samples_for(a, 1)
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "a.h"\n#include "b.h"\n'
        f"static const a_input_t x[A_INPUT_SIZE] = {{{', '.join(str(int(v)) for v in x[0])}}};\n"
        "int main(void) { a_score_t s[A_NUM_CLASSES]; b_score_t t[B_NUM_CLASSES];\n"
        '  printf("%d %d\\n", a_predict(x, s), b_predict_text((const uint8_t *)"der hund", 8, t)); return 0; }\n')
    cmake_build(tmp_path, tmp_path / "build")
    out = subprocess.run([str(tmp_path / "build" / "app")], capture_output=True, text=True, timeout=30).stdout
    assert out.split() == [str(int(a.reference.run(x).predictions[0])),
                           str(int(b.reference.run([b"der hund"]).predictions[0]))]
