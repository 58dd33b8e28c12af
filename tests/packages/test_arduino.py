"""`--package arduino`: a library folder per the Arduino library specification 1.5
(library.properties, src/, examples/<Name>Classify/<Name>Classify.ino). No Arduino SDK: a
structural check, a plain compile of src/ with the mps2-an386 flags and no -I at all, and the
example sketch compiled as C++ against a tiny Arduino.h shim, linked with the C library (which
only works through the header's extern "C" guards) and run on the host."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pnetc.compiler import compile_model
from pnetc.outdir import MANIFEST
from tests.packages.conftest import have

SHIM = Path(__file__).parent / "arduino_shim"
REQUIRED = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url",
            "architectures", "includes")
CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
              "Data Storage", "Data Processing", "Other"}


def read_properties(path: Path) -> dict:
    props = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and key == key.strip() and key not in props, f"bad line {line!r}"
        props[key] = value
    return props


def check_library(pkg: Path, name: str, sketch: str) -> dict:
    props = read_properties(pkg / "library.properties")
    assert set(REQUIRED) <= set(props), set(REQUIRED) - set(props)
    assert all(props[k].strip() for k in REQUIRED)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.-]*", props["name"]) and re.search("[A-Za-z]", props["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", props["version"])
    assert props["category"] in CATEGORIES and props["architectures"] == "*"
    assert props["url"].startswith("https://")
    assert props["includes"] == f"{name}.h" and (pkg / "src" / props["includes"]).is_file()
    # 1.5 layout: nothing but the metadata, src/ and examples/ at the top; one example sketch
    # (+ pnetc's hidden list of the files it wrote, which a recompile needs: pnetc/outdir.py)
    assert sorted(p.name for p in pkg.iterdir()) == [MANIFEST, "examples", "library.properties", "src"]
    assert [p.relative_to(pkg).as_posix() for p in sorted(pkg.glob("examples/**/*")) if p.is_file()] == \
        [f"examples/{sketch}/{sketch}.ino"]
    src = sorted(p.relative_to(pkg / "src").as_posix() for p in (pkg / "src").rglob("*") if p.is_file())
    kernels = [s for s in src if s.startswith("pnet_")]
    assert src == sorted([f"{name}.c", f"{name}.h", f"{name}_weights.c", f"{name}_weights.h", "pnet/pnet.h", "pnet/pnet_support.h",
                          *kernels]) and kernels
    # every #include "..." in src/ resolves next to the including file
    for f in (pkg / "src").rglob("*.[ch]"):
        for inc in re.findall(r'#include "([^"]+)"', f.read_text()):
            assert (f.parent / inc).is_file(), f"{f.name} includes {inc}, which is not next to it"
    return props


def compile_c(cc: str, flags, sources, out: Path) -> list[str]:
    objs = []
    for src in sources:
        obj = out / (src.stem + ".o")
        cmd = [cc, *flags, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-c", str(src), "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stderr
        objs.append(str(obj))
    return objs


def compile_sketch(cxx: str, flags, pkg: Path, ino: Path, out: Path) -> list[str]:
    objs = []
    for src, obj in ((ino, out / "sketch.o"), (SHIM / "main.cpp", out / "shim_main.o")):
        # the IDE adds #include <Arduino.h> to a sketch and puts the library's src/ on the path
        cmd = [cxx, *flags, "-x", "c++", "-std=gnu++11", "-fno-exceptions", "-fno-rtti", "-O2", "-Wall", "-Wextra", "-Werror", "-include", "Arduino.h",
               f"-I{SHIM}", f"-I{pkg / 'src'}", "-c", str(src), "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stderr
        objs.append(str(obj))
    return objs


def sketch_sample(ino: str, cm):
    """The sample the sketch classifies, read back from the sketch's source."""
    if cm.input_kind == "text":
        literal = re.search(r'static const char sample\[\] = "(.*)";', ino).group(1)
        return [literal.encode().decode("unicode_escape").encode("latin-1")]
    values = re.search(r"sample\[\w+\] = \{\n(.*?)\n\};", ino, re.S).group(1)
    return np.array([[float(v.rstrip("f")) for v in values.split(",")]])


@pytest.mark.parametrize("model, precision, name", [("dense", "int8", "fashion_mnist"), ("text", "int8", "langid"),
                                                     ("tanh", "float32", "wave_2")])
def test_library(tmp_path, models, model, precision, name):
    cm = compile_model(models[model], tmp_path / "lib", name=name, precision=precision, package="arduino")
    pkg = cm.out_dir
    sketch = {"fashion_mnist": "FashionMnistClassify", "langid": "LangidClassify", "wave_2": "Wave2Classify"}[name]
    props = check_library(pkg, name, sketch)
    assert props["name"] == name
    assert cm.header == pkg / "src" / f"{name}.h"
    ino_path = pkg / "examples" / sketch / f"{sketch}.ino"
    ino = ino_path.read_text()
    ref = cm.reference.run(sketch_sample(ino, cm))
    expected = int(ref.predictions[0])
    assert f"static const int expected_class = {expected};" in ino

    line = f"class {expected}{' ' + cm.labels[expected] if cm.labels else ''} (equals the reference)\n"
    from pnetc.resources import data_dir
    from pnetc.targets.boards import get_board
    from pnetc.targets.qemu import system_command
    from pnetc.targets.toolchain import render_linker_script

    board = get_board("mps2-an386")
    sources = sorted((pkg / "src").glob("*.c"))
    ran = 0
    if have("arm-none-eabi-gcc", "arm-none-eabi-g++"):
        arm = tmp_path / "arm"
        arm.mkdir()
        objs = compile_c("arm-none-eabi-gcc", board.cflags, sources, arm)  # note: no -I at all
        rt = data_dir("runtime")
        objs += compile_sketch("arm-none-eabi-g++", [*board.cflags, "-DPNET_BARE_METAL", f"-I{rt / 'semihost'}"],
                               pkg, ino_path, arm)
        ld = arm / "board.ld"
        ld.write_text(render_linker_script(board))
        # linked by gcc with pnetc's Cortex-M startup and semihosting: the sketch needs no C++
        # runtime (this toolchain may ship no libstdc++); the C++ calls resolve to the C symbols
        # only through the header's extern "C"
        link = subprocess.run(["arm-none-eabi-gcc", *board.cflags, "-O2", f"-I{rt / 'semihost'}",
                               str(rt / "startup" / "cortex_m.c"), str(rt / "semihost" / "semihost.c"),
                               str(rt / "semihost" / "io_semihost.c"), *objs, "-nostartfiles", "--specs=nano.specs",
                               "--specs=nosys.specs", f"-T{ld}", "-Wl,--gc-sections", "-lm",
                               "-o", str(arm / "sketch.elf")], capture_output=True, text=True)
        assert link.returncode == 0, link.stderr
        if have("qemu-system-arm"):
            run = subprocess.run(system_command(board, arm / "sketch.elf"), capture_output=True, text=True,
                                 timeout=60, cwd=arm)
            assert run.returncode == 0 and line in run.stdout + run.stderr, run.stdout + run.stderr
            ran += 1
    if have("cc", "c++"):
        host = tmp_path / "host"
        host.mkdir()
        objs = compile_c("cc", [], sources, host) + compile_sketch("c++", [], pkg, ino_path, host)
        link = subprocess.run(["c++", *objs, "-lm", "-o", str(host / "sketch")], capture_output=True, text=True)
        assert link.returncode == 0, link.stderr
        out = subprocess.run([str(host / "sketch")], capture_output=True, text=True, timeout=30).stdout
        assert out == line, out
        ran += 1
    if not ran:
        pytest.skip("neither arm-none-eabi-g++ + qemu-system-arm nor a host C++ compiler is installed")
