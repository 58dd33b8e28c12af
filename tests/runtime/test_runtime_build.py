"""Every runtime kernel compiles cleanly with the strict flags under gcc, clang and arm-none-eabi-gcc
for Cortex-M0, and the M0 objects need no libgcc helper where none is allowed (no 64-bit multiply
in the hash/projection/text paths, no __popcountsi2) and no allocator or stdio anywhere."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ckernel_harness import RUNTIME

STRICT = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Wsign-conversion",
          "-Wvla", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Werror", "-O2"]
SOURCES = sorted((RUNTIME / "src").glob("*.c"))
TARGETS = {
    "gcc": ["gcc"],
    "gcc-unsigned-char": ["gcc", "-funsigned-char"],
    "clang": ["clang"],
    "clang-unsigned-char": ["clang", "-funsigned-char"],
    "cortex-m0": ["arm-none-eabi-gcc", "-mcpu=cortex-m0", "-mthumb"],
    "cortex-m4f": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
}
# Undefined symbols a kernel object may reference (besides other pnet_* kernels).
# memset/memcpy: gcc may turn clearing loops into calls; every C environment provides them.
ALLOWED = {"memset", "memcpy"}
FLOAT_HELPERS = {"expf", "tanhf"}
# requantize: the one 32x32->64 multiply, as CMSIS-NN; the average pools: one division per output
# (Cortex-M0 has no divide instruction) and, in float, the tap count converted once per output;
# quantize_f32: the rounding converts its integer part back to float (as the generated _quantize)
ALLOWED_PER_FILE = {"requantize.c": {"__aeabi_lmul"}, "avgpool_s8.c": {"__aeabi_idiv"},
                    "avgpool_f32.c": {"__aeabi_i2f"}, "quantize_f32.c": {"__aeabi_i2f"}}


def _compile(cmd: list[str], out: Path) -> None:
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} is not installed")
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd + STRICT + [f"-I{RUNTIME / 'include'}", "-c"] + [str(s) for s in SOURCES],
                          cwd=out, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("target", list(TARGETS))
def test_strict_build(target, tmp_path):
    _compile(TARGETS[target], tmp_path)
    assert len(list(tmp_path.glob("*.o"))) == len(SOURCES)


def test_cortex_m0_needs_no_helpers(tmp_path):
    _compile(TARGETS["cortex-m0"], tmp_path)
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        pytest.skip("arm-none-eabi-nm is not installed")
    for src in SOURCES:
        out = subprocess.run([nm, "-u", str(tmp_path / (src.stem + ".o"))], capture_output=True, text=True,
                             check=True).stdout
        undefined = {line.split()[-1] for line in out.splitlines() if line.strip()}
        undefined = {u for u in undefined if not u.startswith("pnet_")}
        allowed = ALLOWED | ALLOWED_PER_FILE.get(src.name, set())
        if src.stem.endswith("_f32"):
            allowed = allowed | FLOAT_HELPERS | {u for u in undefined if u.startswith("__aeabi_f")}
        assert undefined <= allowed, f"{src.name} needs {sorted(undefined - allowed)}"


def test_char_signedness_does_not_change_the_code(tmp_path):
    """The byte-reading kernels compile to the same instructions with signed and unsigned plain char."""
    if shutil.which("gcc") is None or shutil.which("objdump") is None:
        pytest.skip("gcc/objdump not installed")
    for src in ["hash.c", "text_features.c", "text_project.c"]:
        disasm = []
        for flag in ["-fsigned-char", "-funsigned-char"]:
            obj = tmp_path / f"{flag}_{src}.o"
            subprocess.run(["gcc", *STRICT, flag, f"-I{RUNTIME / 'include'}", "-c", str(RUNTIME / "src" / src),
                            "-o", str(obj)], check=True)
            text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)], capture_output=True,
                                  text=True, check=True).stdout
            disasm.append(text.split("\n", 3)[-1])  # drop the file name line
        assert disasm[0] == disasm[1], f"{src} depends on the signedness of char"


def test_stack_is_small_and_static(tmp_path):
    """No kernel has a dynamic stack frame (no VLA/alloca) and none needs more than 512 bytes on
    Cortex-M0 (the text projection's iterator and row cache are the largest)."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    subprocess.run(TARGETS["cortex-m0"] + STRICT + ["-fstack-usage", f"-I{RUNTIME / 'include'}", "-c"]
                   + [str(s) for s in SOURCES], cwd=tmp_path, check=True)
    frames = {}
    for su in tmp_path.glob("*.su"):
        for line in su.read_text().splitlines():
            where, size, kind = line.split("\t")
            frames[where.rsplit(":", 1)[-1]] = (int(size), kind)
    assert "pnet_text_project" in frames and "pnet_project_binary" in frames
    for name, (size, kind) in frames.items():
        assert kind == "static" and size <= 512, f"{name}: {size} bytes, {kind}"
