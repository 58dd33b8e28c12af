"""`--package cmake`: the folder builds through add_subdirectory for the host and, with the
generated toolchain file, for mps2-an386, where the firmware runs under QEMU; every answer
equals the golden reference."""

from __future__ import annotations

import json
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
    # the board support a bare-metal program links with, shipped in the package itself
    for rel in ("boards/startup_cortex_m.c", "boards/semihost.h", "boards/microbit.ld", "boards/mps2-an386.ld",
                "cmake/pnetc-flags.cmake"):
        assert (pkg / rel).is_file(), rel
    assert "add_library(pnetc::board ALIAS pnetc_board)" in text


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
@pytest.mark.parametrize("board_name, model, precision, arch", [
    ("mps2-an386", "dense", "int8", "v7E-M"), ("mps2-an386", "tanh", "float32", "v7E-M"),
    ("microbit", "dense", "int8", "v6S-M"), ("microbit", "text", "int8", "v6S-M")])
def test_bare_metal_program_from_the_package_alone(tmp_path, models, board_name, model, precision, arch):
    """The user's own C program (tests/packages/consumer), built with nothing but the package: its
    toolchain file, pnetc::board (startup, semihosting, linker script) and no build type; it runs
    under QEMU and every answer equals the golden reference."""
    from pnetc.targets.boards import get_board
    from pnetc.targets.qemu import system_command

    board = get_board(board_name)
    cm = compile_model(models[model], tmp_path / "pkg", name="clf", precision=precision, package="cmake")
    samples = samples_for(cm)
    src = consumer_project(tmp_path, cm, samples)
    build = tmp_path / "build"
    cmake_build(src, build, f"-DCMAKE_TOOLCHAIN_FILE={cm.out_dir / 'cmake' / f'{board_name}.cmake'}",
                f"-DPNETC_PACKAGE={cm.out_dir}", "-DPNETC_MODEL=clf")
    cache = (build / "CMakeCache.txt").read_text()
    assert "CMAKE_BUILD_TYPE:STRING=Release" in cache and "CMAKE_C_FLAGS_RELEASE:STRING=-O2 -DNDEBUG" in cache
    elf = build / "app"
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(elf)], capture_output=True, text=True).stdout
    assert f"Tag_CPU_arch: {arch}" in attrs, attrs  # the toolchain file's board flags reached the compiler
    if board.fpu != "none":
        assert "Tag_ABI_VFP_args: VFP registers" in attrs, attrs
    run = subprocess.run(system_command(board, elf), capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert check_output(cm, samples, run.stdout + run.stderr) == len(samples)


@pytest.mark.skipif(not have("cmake", "arm-none-eabi-gcc"), reason="needs cmake and arm-none-eabi-gcc")
def test_a_cortex_m0_program_using_libc_links(tmp_path, models):
    """The issue's case: a Cortex-M0 build with no build type compiled at -O0 and failed to link
    (undefined _kill, _getpid from abort()). With the package's toolchain file: -O2 and nosys."""
    cm = compile_model(models["dense"], tmp_path / "pkg", name="clf", package="cmake")
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(user C)\n"
        f"add_subdirectory({cm.out_dir} clf)\nadd_executable(app main.c)\n"
        "target_link_libraries(app PRIVATE pnetc::clf pnetc::board)\n")
    (src / "main.c").write_text(
        '#include <assert.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include "clf.h"\n#include "semihost.h"\n'
        "static clf_input_t x[CLF_INPUT_SIZE];\n"
        "int main(void) { clf_score_t s[CLF_NUM_CLASSES]; char line[32]; int c = clf_predict(x, s);\n"
        "  assert(c >= 0); if (c > 99) abort();\n"
        '  snprintf(line, sizeof line, "class %d\\n", c); pnet_sh_puts(line); return 0; }\n')
    build = tmp_path / "build"
    r = subprocess.run(["cmake", "-S", str(src), "-B", str(build),
                        f"-DCMAKE_TOOLCHAIN_FILE={cm.out_dir / 'cmake' / 'microbit.cmake'}",
                        "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr  # no undefined _kill / _getpid
    commands = (build / "compile_commands.json").read_text()
    assert "-O2" in commands and "-O0" not in commands


@pytest.mark.skipif(not have("cmake", "cc"), reason="needs cmake and a host C compiler")
def test_host_build_without_a_build_type_is_optimised(tmp_path, models):
    cm = compile_model(models["dense"], tmp_path / "pkg", name="clf", package="cmake")
    src = consumer_project(tmp_path, cm, samples_for(cm))
    r = subprocess.run(["cmake", "-S", str(src), "-B", str(tmp_path / "build"), f"-DPNETC_PACKAGE={cm.out_dir}",
                        "-DPNETC_MODEL=clf", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    commands = json.loads((tmp_path / "build" / "compile_commands.json").read_text())
    model_files = [c["command"] for c in commands if "/pkg/src/" in c["file"]]
    assert model_files and all("-O2" in c for c in model_files)


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
