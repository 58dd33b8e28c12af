"""Static analysis of the C runtime and of the generated code of the three reference models:
cppcheck, clang-tidy (bugprone-*, cert-*), and -Wall -Wextra -Wconversion -Werror under gcc and
clang. Each test skips when its tool is absent.

Justified suppressions (the only ones):
  * clang-tidy bugprone-easily-swappable-parameters: the kernels take several int32 sizes in a row,
    mirroring the TFLite/CMSIS-NN signatures; the generated code is their only caller and emits
    every argument from a named IR field, and tests/runtime checks each kernel against numpy.
  * cppcheck unusedFunction is not enabled: runtime/ is a library whose callers are generated.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_SRC = sorted((ROOT / "runtime" / "src").glob("*.c"))
RUNTIME_INC = ROOT / "runtime" / "include"
MODELS = ["dense", "ternary_table", "text"]

CPPCHECK = ["cppcheck", "--enable=warning,style,performance,portability", "--std=c99", "--error-exitcode=1",
            "--inline-suppr", "--quiet", "--suppress=missingIncludeSystem"]
TIDY_CHECKS = "-*,bugprone-*,cert-*,-bugprone-easily-swappable-parameters"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)


def generated_sources(cm) -> list[Path]:
    return [Path(s) for s in cm.sources]


def test_cppcheck_runtime():
    need("cppcheck")
    res = run(CPPCHECK + ["-I", RUNTIME_INC, *RUNTIME_SRC])
    assert res.returncode == 0 and res.stderr.strip() == "", res.stderr


@pytest.mark.parametrize("model", MODELS)
def test_cppcheck_generated(compiled_refs, model):
    need("cppcheck")
    cm = compiled_refs[model]
    res = run(CPPCHECK + ["-I", cm.out_dir, *generated_sources(cm)])
    assert res.returncode == 0 and res.stderr.strip() == "", res.stderr


def _tidy(files: list[Path], include: Path) -> subprocess.CompletedProcess:
    return run(["clang-tidy", "--quiet", f"-checks={TIDY_CHECKS}", "--warnings-as-errors=*", *files, "--",
                "-std=c99", "-I", include])


def test_clang_tidy_runtime():
    need("clang-tidy")
    res = _tidy(RUNTIME_SRC, RUNTIME_INC)
    assert res.returncode == 0 and "warning:" not in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("model", MODELS)
def test_clang_tidy_generated(compiled_refs, model):
    need("clang-tidy")
    cm = compiled_refs[model]
    res = _tidy(generated_sources(cm), cm.out_dir)
    assert res.returncode == 0 and "warning:" not in res.stdout, res.stdout + res.stderr


def test_clang_tidy_would_report(tmp_path):
    """The clang-tidy runs above can fail: known bugprone/cert patterns are reported."""
    need("clang-tidy")
    bad = tmp_path / "probe.c"
    bad.write_text("#include <stdlib.h>\n#include <string.h>\n"
                   "int f(char *d, const char *s) { memset(d, 256, 4); return atoi(s) + rand(); }\n")
    res = _tidy([bad], RUNTIME_INC)
    assert res.returncode != 0 and "cert-err34-c" in res.stdout and "cert-msc30-c" in res.stdout, res.stdout


STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Werror", "-O2", "-c"]


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("model", MODELS)
def test_strict_warnings_generated(compiled_refs, tmp_path, cc, model):
    need(cc)
    cm = compiled_refs[model]
    for src in generated_sources(cm):
        res = run([cc, *STRICT, "-I", cm.out_dir, src, "-o", tmp_path / (src.stem + ".o")])
        assert res.returncode == 0, f"{cc} {src.name}:\n{res.stderr}"


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_strict_warnings_runtime(tmp_path, cc):
    need(cc)
    for src in RUNTIME_SRC:
        res = run([cc, *STRICT, "-I", RUNTIME_INC, src, "-o", tmp_path / (src.stem + ".o")])
        assert res.returncode == 0, f"{cc} {src.name}:\n{res.stderr}"
