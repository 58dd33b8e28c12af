"""`--package zephyr`: a module folder (zephyr/module.yml, CMakeLists.txt, Kconfig). No Zephyr SDK:
a structural check of the three files, then a plain compile of the module's sources with the
mps2-an386 board flags and a link check that nothing but the C library is left undefined."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pnetc.compiler import compile_model
from tests.packages.conftest import have


def parse_simple_yaml(text: str) -> dict:
    """The block-mapping subset of YAML module.yml uses (nested `key: value`, comments).
    Strict: anything else (lists, flow style, tabs, bad indentation) fails the test."""
    root: dict = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        assert "\t" not in raw, f"tab in YAML: {raw!r}"
        indent = len(line) - len(line.lstrip(" "))
        m = re.fullmatch(r"([A-Za-z0-9_.-]+):(?: (.+))?", line.strip())
        assert m, f"not a `key: value` line: {raw!r}"
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        assert m.group(1) not in parent, f"duplicate key {m.group(1)}"
        if m.group(2) is None:
            parent[m.group(1)] = {}
            stack.append((indent, parent[m.group(1)]))
        else:
            parent[m.group(1)] = m.group(2).strip()
    return root


def parse_kconfig(text: str) -> list[dict]:
    """config entries: symbol, type, prompt, selects, help (tab-indented attributes, help text
    indented by a tab and two spaces, as Kconfig requires)."""
    entries: list[dict] = []
    in_help = False
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("config "):
            entries.append({"symbol": raw.split()[1], "selects": [], "help": ""})
            in_help = False
            continue
        assert entries, f"attribute outside a config entry: {raw!r}"
        e = entries[-1]
        if in_help:
            assert raw.startswith("\t  "), f"help text must be indented by a tab and two spaces: {raw!r}"
            e["help"] += raw.strip() + " "
            continue
        assert raw.startswith("\t") and not raw.startswith("\t "), f"attribute indent: {raw!r}"
        m = re.fullmatch(r"\t(bool|tristate|int|string|hex) \"([^\"]+)\"", raw)
        if m:
            e["type"], e["prompt"] = m.groups()
        elif raw.startswith("\tselect "):
            e["selects"].append(raw.split()[1])
        elif raw.strip() == "help":
            in_help = True
        else:
            raise AssertionError(f"unexpected Kconfig line: {raw!r}")
    return entries


def check_module(pkg: Path, name: str, needs_libm: bool) -> list[Path]:
    """The structural check; returns the sources the module's CMakeLists.txt builds."""
    module = parse_simple_yaml((pkg / "zephyr" / "module.yml").read_text())
    assert module["name"] == f"pnetc-{name}"
    assert (pkg / module["build"]["cmake"] / "CMakeLists.txt").is_file()
    kconfig = pkg / module["build"]["kconfig"]
    assert kconfig.is_file()
    (entry,) = parse_kconfig(kconfig.read_text())
    symbol = f"PNETC_{name.upper()}"
    assert entry["symbol"] == symbol and entry["type"] == "bool" and name in entry["prompt"]
    assert f"{name}_predict" in entry["help"]
    assert entry["selects"] == (["REQUIRES_FULL_LIBC"] if needs_libm else [])

    cmake = (pkg / "CMakeLists.txt").read_text()
    body = re.search(rf"^if\(CONFIG_{symbol}\)\n(.*)^endif\(\)\n\Z", cmake, re.S | re.M)
    assert body, "the module's CMakeLists.txt must be one if(CONFIG_...) block"
    body = body.group(1)
    assert re.search(r"^\s*zephyr_library\(\)$", body, re.M)
    sources = re.search(r"zephyr_library_sources\(\n(.*?)\n\s*\)", body, re.S).group(1).split()
    assert sorted(sources) == sorted(str(p.relative_to(pkg)) for p in (pkg / "src").glob("*.c"))
    (inc,) = re.findall(r"zephyr_include_directories\((\S+)\)", body)
    assert sorted(p.name for p in (pkg / inc).iterdir()) == [f"{name}.h"]
    return [pkg / s for s in sources]


@pytest.mark.parametrize("model, precision", [("dense", "int8"), ("text", "int8"), ("tanh", "float32")])
def test_module_structure_and_compile(tmp_path, models, model, precision):
    cm = compile_model(models[model], tmp_path / "module", name="gesture", precision=precision, package="zephyr")
    sources = check_module(cm.out_dir, "gesture", cm.needs_libm)
    assert sorted(sources) == sorted(cm.sources)
    if not have("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc not installed")
    from pnetc.targets.boards import get_board

    board = get_board("mps2-an386")
    objs = []
    for src in sources:
        obj = tmp_path / (src.stem + ".o")
        cmd = ["arm-none-eabi-gcc", *board.cflags, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
               f"-I{cm.out_dir / 'include'}", "-c", str(src), "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stderr
        objs.append(str(obj))
    # the listed sources are complete: linked together, only C library symbols stay undefined
    lib = tmp_path / "module.o"
    subprocess.run(["arm-none-eabi-ld", "-r", "-o", str(lib), *objs], check=True)
    nm = subprocess.run(["arm-none-eabi-nm", "-u", str(lib)], capture_output=True, text=True, check=True).stdout
    undefined = {line.split()[-1] for line in nm.splitlines() if line.strip()}
    assert undefined <= {"memcpy", "memset", "expf", "tanhf", "__aeabi_memcpy", "__aeabi_memset", "__aeabi_memclr"}, undefined
    assert ("tanhf" in undefined) == cm.needs_libm
    defined = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", str(lib)], capture_output=True,
                             text=True, check=True).stdout
    assert " T gesture_predict" in defined
