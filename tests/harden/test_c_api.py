"""The generated C API contract, checked with a small C driver per reference model.

* NULL pointers and bad lengths return the negative codes of runtime/include/pnet/pnet.h
  (PNET_ERR_NULL = -1, PNET_ERR_LENGTH = -2) that the generated header documents, and touch nothing;
  NULL scores is allowed. Built with ASan + UBSan.
* Text: time O(len) (CPU-time ratio between 1 MB and 64 KB inputs, generous bound) and memory
  O(1): no allocator or VLA in the generated code, every stack frame static and small
  (-fstack-usage), a fixed static arena (<NAME>_ARENA_BYTES), the same peak stack for 16 KB and
  256 KB texts (valgrind massif, if installed), and a 1 MB text under a 64 KB stack limit.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

DRIVER = r"""
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "@NAME@.h"
#include "pnet/pnet.h"

#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); return 1; } } while (0)

#if @NAME_UP@_IS_TEXT
static uint8_t *make_text(size_t len)
{
    static const char words[] = "the quick brown fox jumps over der faule hund \xc3\xa9t\xc3\xa9 \xd0\x9f\xd1\x80\xd0\xb8 ";
    uint8_t *t = (uint8_t *)malloc(len + 1);
    size_t i;
    for (i = 0; i < len; ++i) t[i] = (uint8_t)words[i % (sizeof words - 1)];
    t[len] = 0;
    return t;
}
#endif

static int contract(void)
{
    @NAME@_score_t s[@NAME_UP@_NUM_CLASSES], before[@NAME_UP@_NUM_CLASSES];
    int c;
    memset(s, 0x5a, sizeof s);
    memcpy(before, s, sizeof s);
    CHECK(@NAME@_predict(NULL, s) == PNET_ERR_NULL);
    CHECK(memcmp(s, before, sizeof s) == 0);
#if @NAME_UP@_IS_TEXT
    {
        uint8_t *t = make_text(1000);
        CHECK(@NAME@_predict_text(NULL, 1, s) == PNET_ERR_NULL);
        CHECK(@NAME@_predict_text(NULL, SIZE_MAX, s) == PNET_ERR_NULL || @NAME@_predict_text(NULL, SIZE_MAX, s) == PNET_ERR_LENGTH);
        CHECK(memcmp(s, before, sizeof s) == 0);
        /* bad lengths: the text is never read (t is only 1000 bytes; ASan would catch a read) */
        CHECK(@NAME@_predict_text(t, PNET_TEXT_MAX_LEN, s) == PNET_ERR_LENGTH);
        CHECK(@NAME@_predict_text(t, PNET_TEXT_MAX_LEN + 1, s) == PNET_ERR_LENGTH);
        CHECK(@NAME@_predict_text(t, SIZE_MAX, s) == PNET_ERR_LENGTH);
        CHECK(memcmp(s, before, sizeof s) == 0);
        c = @NAME@_predict_text(NULL, 0, s);             /* NULL with len 0 is the empty text */
        CHECK(c >= 0 && c < @NAME_UP@_NUM_CLASSES);
        CHECK(@NAME@_predict_text((const uint8_t *)"", 0, NULL) == c);
        c = @NAME@_predict_text(t, 1000, NULL);           /* scores may be NULL */
        CHECK(c >= 0 && c < @NAME_UP@_NUM_CLASSES);
        CHECK(@NAME@_predict(t, s) == c);
        free(t);
    }
#else
    {
        @NAME@_input_t *x = (@NAME@_input_t *)calloc(@NAME_UP@_INPUT_SIZE, sizeof *x);
        c = @NAME@_predict(x, NULL);
        CHECK(c >= 0 && c < @NAME_UP@_NUM_CLASSES);
        CHECK(@NAME@_predict(x, s) == c);
        free(x);
    }
#endif
    printf("OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "contract") == 0) return contract();
#if @NAME_UP@_IS_TEXT
    if (argc > 3 && strcmp(argv[1], "time") == 0) {
        size_t len = (size_t)strtoul(argv[2], NULL, 10);
        int reps = atoi(argv[3]), r, sink = 0;
        uint8_t *t = make_text(len);
        double best = 1e30;
        for (r = 0; r < reps; ++r) {
            clock_t t0 = clock();
            sink += @NAME@_predict_text(t, len, NULL);
            double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
            if (dt < best) best = dt;
        }
        printf("%.9f %d\n", best, sink);
        free(t);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "run") == 0) {
        size_t len = (size_t)strtoul(argv[2], NULL, 10);
        uint8_t *t = make_text(len);
        int c = @NAME@_predict_text(t, len, NULL);
        printf("%d\n", c);
        free(t);
        return c < 0;
    }
#endif
    return 2;
}
"""


def _build(cm, tmp: Path, tag: str, flags: list[str]) -> Path:
    name = cm.name
    src = tmp / f"driver_{name}.c"
    src.write_text(DRIVER.replace("@NAME_UP@", name.upper()).replace("@NAME@", name))
    exe = tmp / f"driver_{name}_{tag}"
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *flags, "-I", str(cm.out_dir), str(src),
           *map(str, cm.sources), "-o", str(exe)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return exe


MODELS = ["dense", "ternary_table", "text"]


@pytest.mark.parametrize("model", MODELS)
def test_null_and_bad_lengths_return_documented_codes(compiled_refs, tmp_path, model):
    cm = compiled_refs[model]
    exe = _build(cm, tmp_path, "san", ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
    res = subprocess.run([str(exe), "contract"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == "OK", res.stdout + res.stderr


@pytest.mark.parametrize("model", MODELS)
def test_header_documents_negative_error_codes(compiled_refs, model):
    cm = compiled_refs[model]
    header = cm.header.read_text()
    comments = " ".join(re.findall(r"/\*(.*?)\*/", header, re.S)).split()
    text = " ".join(comments)
    assert "PNET_ERR_NULL (-1) if x is NULL" in text and "an error leaves it untouched" in text
    pnet = (cm.out_dir / "pnet" / "pnet.h").read_text()
    assert "#define PNET_ERR_NULL (-1)" in pnet and "#define PNET_ERR_LENGTH (-2)" in pnet
    if cm.input_kind == "text":
        assert "PNET_ERR_NULL (-1) if utf8 is NULL and len > 0, PNET_ERR_LENGTH (-2) if len >= 2^26" in text
        assert "PNET_ERR_LENGTH (-2) if it is 2^26 bytes or longer" in text


@pytest.fixture(scope="module")
def text_fast(compiled_refs, tmp_path_factory):
    return _build(compiled_refs["text"], tmp_path_factory.mktemp("api-text"), "O2", ["-O2"])


def _cpu_seconds(exe: Path, length: int, reps: int) -> float:
    out = subprocess.run([str(exe), "time", str(length), str(reps)], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    return float(out.split()[0])


def test_text_time_is_linear(text_fast):
    """1 MB takes about 16x the CPU time of 64 KB: bound at 40x (a quadratic featurizer gives 256x)."""
    small = _cpu_seconds(text_fast, 64 * 1024, 9)
    big = _cpu_seconds(text_fast, 1024 * 1024, 3)
    ratio = big / max(small, 1e-9)
    assert 4.0 < ratio < 40.0, f"64 KB {small:.5f} s, 1 MB {big:.5f} s, ratio {ratio:.1f}"


def _limit_stack():
    resource.setrlimit(resource.RLIMIT_STACK, (64 * 1024, 64 * 1024))


def test_text_1mb_runs_in_a_64kb_stack(text_fast):
    res = subprocess.run([str(text_fast), "run", str(1024 * 1024)], capture_output=True, text=True, timeout=120,
                         preexec_fn=_limit_stack)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("model", MODELS)
def test_memory_is_static(compiled_refs, tmp_path, model):
    """No allocator or VLA in the generated code; every stack frame bounded (static or dynamic,bounded) and at most 512 bytes;
    the only buffer is the static arena of <NAME>_ARENA_BYTES."""
    cm = compiled_refs[model]
    for src in cm.sources:
        text = Path(src).read_text()
        assert not re.search(r"\b(malloc|calloc|realloc|free|alloca)\s*\(", text), src
        res = subprocess.run(["gcc", "-std=c99", "-O2", "-Wvla", "-Werror", "-fstack-usage", "-c", "-I",
                              str(cm.out_dir), str(src), "-o", str(tmp_path / (Path(src).stem + ".o"))],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    frames = [ln.split("\t") for su in tmp_path.glob("*.su") for ln in su.read_text().splitlines()]
    assert frames
    for where, size, kind in frames:
        assert kind.strip() in ("static", "dynamic,bounded") and int(size) <= 512, f"{where}: {size} bytes, {kind}"
    model_c = (cm.out_dir / f"{cm.name}.c").read_text()
    assert re.search(rf"static uint64_t {cm.name}_arena\[\({cm.name.upper()}_ARENA_BYTES \+ 7\) / 8\];", model_c)


def _peak_stack(exe: Path, length: int, tmp: Path) -> int:
    out = tmp / f"massif.{length}"
    subprocess.run(["valgrind", "--tool=massif", "--stacks=yes", "--heap=no", f"--massif-out-file={out}",
                    str(exe), "run", str(length)], capture_output=True, text=True, timeout=300, check=True)
    return max(int(m) for m in re.findall(r"mem_stacks_B=(\d+)", out.read_text()))


def test_text_peak_stack_does_not_grow(text_fast, tmp_path):
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    small = _peak_stack(text_fast, 16 * 1024, tmp_path)
    big = _peak_stack(text_fast, 256 * 1024, tmp_path)
    assert big <= small + 256, f"peak stack {small} B for 16 KB, {big} B for 256 KB"
