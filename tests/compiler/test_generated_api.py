"""The generated C API beyond one call: caller arenas (re-entrancy), two models in one program
through their .mk fragments, and the --name values that would collide in C, make or CMake."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pnetc import __version__
from pnetc.compiler import compile_model
from pnetc.hashing import unpack_bits
from tests.compiler import model_factory as mf
from tests.compiler.conftest import have
from tests.harden.conftest import assert_one_line_error, run_cli

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Werror", "-pedantic"]
TEXTS = [b"", b"der schnelle braune fuchs", b"the lazy dog", b"\xff\xfe invalid \xc3 utf-8", b"le chien tr\xc3\xa8s"]


def _c_text(t: bytes) -> str:
    from pnetc.codegen.escape import c_string

    return c_string(t)


def _inputs_c(cm, n: int) -> tuple[str, list]:
    """C definitions of n samples (inputs[i] / texts[i] + lens[i]) and the samples themselves."""
    if cm.input_kind == "text":
        samples = (TEXTS * n)[:n]
        c = (f"static const char *const texts[{n}] = {{{', '.join(_c_text(t) for t in samples)}}};\n"
             f"static const size_t lens[{n}] = {{{', '.join(str(len(t)) for t in samples)}}};\n")
        return c, samples
    x = mf.dense_samples(n, cm.input_size, seed=31)
    rows = ",\n".join("{" + ", ".join(str(int(v)) for v in row) + "}" for row in x)
    return f"static const {cm.name}_input_t inputs[{n}][{cm.name.upper()}_INPUT_SIZE] = {{\n{rows}\n}};\n", x


def _call(cm, i: str, scores: str, arena: str | None) -> str:
    n = cm.name
    if cm.input_kind == "text":
        if arena is None:
            return f"{n}_predict_text((const uint8_t *)texts[{i}], lens[{i}], {scores})"
        return f"{n}_predict_text_with_arena((const uint8_t *)texts[{i}], lens[{i}], {scores}, {arena})"
    if arena is None:
        return f"{n}_predict(inputs[{i}], {scores})"
    return f"{n}_predict_with_arena(inputs[{i}], {scores}, {arena})"


def _build_and_run(tmp_path: Path, cms, main: str, extra=()) -> str:
    src = tmp_path / "main.c"
    src.write_text(main)
    exe = tmp_path / "app"
    cmd = ["gcc", *STRICT, "-O2", *extra, *[f"-I{d}" for cm in cms for d in cm.include_dirs], str(src),
           *[str(s) for cm in cms for s in cm.sources], "-o", str(exe), "-lm", "-lpthread"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[:4000]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _expect(cm, samples, lines: list[str]) -> None:
    """Lines "pred words... scores..." equal the golden reference of each sample."""
    ref = cm.reference.run(samples if cm.input_kind == "text" else np.asarray(samples))
    assert len(lines) == len(samples)
    words = (cm.num_bits + 31) // 32
    for k, line in enumerate(lines):
        f = line.split()
        assert int(f[0]) == int(ref.predictions[k]), (k, line)
        got_bits = unpack_bits(np.array([[int(w) for w in f[1:1 + words]]], np.uint32), cm.num_bits)[0]
        assert np.array_equal(got_bits, ref.bits[k]), k
        scores = np.array([float(v) for v in f[1 + words:]])
        tol = 0 if cm.score_dtype == "int8" else 1e-5 * max(1.0, float(np.max(np.abs(ref.scores[k]))))
        assert np.all(np.abs(scores - ref.scores[k]) <= tol), (k, scores, ref.scores[k])


@pytest.mark.skipif(not have("gcc"), reason="needs gcc")
@pytest.mark.parametrize("model, precision", [("dense", "int8"), ("text", "int8"), ("presence", "int8"), ("dense", "float32")])
def test_caller_arenas_are_independent(tmp_path, models, model, precision):
    """Two caller arenas and the static one, calls interleaved: each arena keeps its own sample's
    bits, every answer equals the reference; two threads with their own arenas agree with them."""
    cm = compile_model(models[model], tmp_path / "m", name="m", precision=precision)
    n = 8
    samples_c, samples = _inputs_c(cm, n)
    fmt = "%d" if cm.score_dtype == "int8" else "%.9g"
    cast = "(int)" if cm.score_dtype == "int8" else "(double)"
    main = f"""#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "m.h"
{samples_c}
static uint64_t arena_a[(M_ARENA_BYTES + 7) / 8];
static uint64_t arena_b[(M_ARENA_BYTES + 7) / 8];
static int expected[{n}];

static void put(int rc, const uint32_t *bits, const m_score_t *s)
{{
    int j;
    printf("%d", rc);
    for (j = 0; j < M_NUM_WORDS; ++j) {{
        printf(" %lu", bits != NULL ? (unsigned long)bits[j] : 0ul);
    }}
    for (j = 0; j < M_NUM_CLASSES; ++j) {{
        printf(" {fmt}", {cast}s[j]);
    }}
    printf("\\n");
}}

static void *worker(void *arg)
{{
    uint64_t arena[(M_ARENA_BYTES + 7) / 8];
    m_score_t s[M_NUM_CLASSES];
    int round;
    int i;
    (void)arg;
    for (round = 0; round < 300; ++round) {{
        for (i = 0; i < {n}; ++i) {{
            if ({_call(cm, "i", "s", "arena")} != expected[i]) {{
                return (void *)1;
            }}
        }}
    }}
    return NULL;
}}

int main(void)
{{
    m_score_t sa[M_NUM_CLASSES], sb[M_NUM_CLASSES], st[M_NUM_CLASSES];
    pthread_t t1, t2;
    void *r1, *r2;
    int i;
    for (i = 0; i < {n}; ++i) {{
        const int j = {n} - 1 - i;
        const int ra = {_call(cm, "i", "sa", "arena_a")};
        const int rs = {_call(cm, "j", "st", None)};  /* the static arena in between */
        const int rb = {_call(cm, "j", "sb", "arena_b")};
        put(ra, m_arena_bits(arena_a), sa);
        if (rs != rb || memcmp(st, sb, sizeof st) != 0 ||
            (M_NUM_BITS > 0 && memcmp(m_last_bits(), m_arena_bits(arena_b), sizeof(uint32_t) * M_NUM_WORDS) != 0)) {{
            printf("static and caller arena disagree at %d\\n", j);
            return 1;
        }}
        expected[i] = ra;
    }}
    if ({_call(cm, "0", "sa", "NULL")} != -1 || {_call(cm, "0", "sa", "(uint8_t *)arena_a + 1")} != -3) {{
        printf("a NULL or misaligned arena is not refused\\n");
        return 1;
    }}
    if (pthread_create(&t1, NULL, worker, NULL) != 0 || pthread_create(&t2, NULL, worker, NULL) != 0) {{
        return 2;
    }}
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    if (r1 != NULL || r2 != NULL) {{
        printf("a thread got another answer\\n");
        return 1;
    }}
    return 0;
}}
"""
    out = _build_and_run(tmp_path, [cm], main)
    _expect(cm, samples, out.splitlines())


def _make_print(makefile_text: str, cwd: Path, *variables: str) -> subprocess.CompletedProcess:
    rule = "print:\n" + "".join(f"\t@echo $({v})\n" for v in variables)
    return subprocess.run(["make", "-s", "-f", "-", "print"], input=makefile_text + rule, capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.skipif(not have("make") or not have("gcc"), reason="needs make and gcc")
def test_two_models_through_their_mk_fragments(tmp_path, models):
    """Two models (dense and text, both int8, so they share kernels) in one program through
    their .mk fragments: each runtime kernel is built once, the program links and both answer
    as their references; a .mk included twice adds nothing, one from another pnetc is refused.
    One name extends the other (alpha, alpha_model): their make variables must not overlap."""
    a = compile_model(models["dense"], tmp_path / "alpha", name="alpha")
    b = compile_model(models["text"], tmp_path / "alpha_model", name="alpha_model")
    shared = {s.name for s in a.sources if s.parent.name == "runtime"} & \
        {s.name for s in b.sources if s.parent.name == "runtime"}
    assert shared, "the test needs models that share runtime kernels"
    head = f"include {a.out_dir}/alpha.mk\ninclude {b.out_dir}/alpha_model.mk\ninclude {a.out_dir}/alpha.mk\n"
    listed = _make_print(head, tmp_path, "ALPHA_SRCS", "ALPHA_MODEL_SRCS").stdout.split()
    assert sorted(Path(s).name for s in listed) == sorted({s.name for s in [*a.sources, *b.sources]})
    assert [Path(s) for s in listed[:len(a.sources)]] == a.sources  # the first .mk brings all it needs

    n = 5
    a_c, a_samples = _inputs_c(a, n)
    b_c, b_samples = _inputs_c(b, n)
    (tmp_path / "main.c").write_text(f"""#include <stdio.h>
#include "alpha.h"
#include "alpha_model.h"
{a_c}{b_c}
int main(void)
{{
    alpha_score_t sa[ALPHA_NUM_CLASSES];
    alpha_model_score_t sb[ALPHA_MODEL_NUM_CLASSES];
    int i, j;
    for (i = 0; i < {n}; ++i) {{
        printf("%d", {_call(a, "i", "sa", None)});
        for (j = 0; j < ALPHA_NUM_WORDS; ++j) printf(" %lu", (unsigned long)alpha_last_bits()[j]);
        for (j = 0; j < ALPHA_NUM_CLASSES; ++j) printf(" %d", (int)sa[j]);
        printf("\\n");
    }}
    for (i = 0; i < {n}; ++i) {{
        printf("%d", {_call(b, "i", "sb", None)});
        for (j = 0; j < ALPHA_MODEL_NUM_WORDS; ++j) printf(" %lu", (unsigned long)alpha_model_last_bits()[j]);
        for (j = 0; j < ALPHA_MODEL_NUM_CLASSES; ++j) printf(" %d", (int)sb[j]);
        printf("\\n");
    }}
    return 0;
}}
""")
    (tmp_path / "Makefile").write_text(
        head + "CFLAGS += $(ALPHA_CFLAGS) $(ALPHA_MODEL_CFLAGS) -std=c99 -Wall -Wextra -Werror\n"
        "app: main.c $(ALPHA_SRCS) $(ALPHA_MODEL_SRCS)\n\t$(CC) $(CFLAGS) $^ -o $@ $(ALPHA_LDLIBS) $(ALPHA_MODEL_LDLIBS)\n")
    r = subprocess.run(["make", "-s", "-C", str(tmp_path), "app"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True, timeout=30,
                           check=True).stdout.splitlines()
    _expect(a, a_samples, lines[:n])
    _expect(b, b_samples, lines[n:])

    old = tmp_path / "alpha_model" / "alpha_model.mk"
    old.write_text(old.read_text().replace(__version__, "0.0.9"))
    r = _make_print(head, tmp_path, "ALPHA_MODEL_SRCS")
    assert r.returncode != 0 and "compile all models with one pnetc" in r.stderr, r.stderr


@pytest.mark.parametrize("name, needle", [
    ("all", "CMake reserves"), ("clean", "CMake reserves"), ("help", "CMake reserves"),
    ("install", "CMake reserves"), ("INSTALL", "CMake reserves"), ("Test", "CMake reserves"),
    ("package", "CMake reserves"), ("ZERO_CHECK", "CMake reserves"), ("rebuild_cache", "CMake reserves"),
    ("list_install_components", "CMake reserves"), ("Nightly", "CMake reserves"),
    ("PNET_PNET", "PNET_PNET_H"), ("pnet", "pnet"), ("Pnet_kernels", "pnet"), ("PNETC_x", "pnet"),
    ("pnetc", "pnet"), ("_wave", "starts with '_'"), ("__x", "starts with '_'"),
    ("2x", "C identifier"), ("a-b", "C identifier"), ("x" * 42, "C identifier"), ("int", "keyword"),
    ("class", "keyword"),
])
def test_colliding_names_are_refused(models, tmp_path, name, needle):
    out = tmp_path / "out"
    res = run_cli(["compile", str(models["dense"]), "-o", str(out), "--name", name])
    assert_one_line_error(res, needle)
    assert not out.exists()


@pytest.mark.parametrize("name", ["installer", "tests", "pnetwork", "nightly", "help_me", "x" * 41])
def test_near_misses_are_accepted(models, tmp_path, name):
    cm = compile_model(models["dense"], tmp_path / "out", name=name)
    assert cm.header.name == f"{name}.h"


STREAM_CHUNKS = (1, 2, 3, 7, 64)


def _stream_main(texts: list[bytes]) -> str:
    """A program that classifies every text through m_text_begin/_feed/_predict in chunks of
    each STREAM_CHUNKS size (an empty feed in between), printing one line per (text, size) as
    test_caller_arenas_are_independent's put() does; exits 1 when the misuse checks fail."""
    n = len(texts)
    return f"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "m.h"
static const char *const texts[{n}] = {{{', '.join(_c_text(t) for t in texts)}}};
static const size_t lens[{n}] = {{{', '.join(str(len(t)) for t in texts)}}};
static const size_t chunks[{len(STREAM_CHUNKS)}] = {{{', '.join(map(str, STREAM_CHUNKS))}}};

int main(void)
{{
    static m_text_stream zeroed;
    m_text_stream *s = (m_text_stream *)malloc(sizeof(m_text_stream));
    uint64_t arena[(M_ARENA_BYTES + 7) / 8];
    m_score_t scores[M_NUM_CLASSES];
    size_t i, c, pos;
    int j;
    for (i = 0; i < {n}; ++i) {{
        for (c = 0; c < {len(STREAM_CHUNKS)}; ++c) {{
            int rc = m_text_begin(s);
            for (pos = 0; pos < lens[i] && rc == 0; pos += chunks[c]) {{
                size_t k = lens[i] - pos < chunks[c] ? lens[i] - pos : chunks[c];
                uint8_t *chunk = (uint8_t *)malloc(k + 1);  /* freed at once: the stream keeps no pointer */
                memcpy(chunk, texts[i] + pos, k);
                rc = m_text_feed(s, chunk, k);
                free(chunk);
                if (rc == 0 && pos == 0) {{
                    rc = m_text_feed(s, NULL, 0);
                }}
            }}
            rc = rc != 0 ? rc : m_text_predict_with_arena(s, scores, arena);
            printf("%d", rc);
            for (j = 0; j < M_NUM_WORDS; ++j) {{
                printf(" %lu", (unsigned long)m_arena_bits(arena)[j]);
            }}
            for (j = 0; j < M_NUM_CLASSES; ++j) {{
                printf(" %.9g", (double)scores[j]);
            }}
            printf("\\n");
        }}
    }}
    /* misuse: NULL stream, never begun, predicted twice, a NULL chunk (sticky), too long */
    if (m_text_begin(NULL) != -1 || m_text_feed(NULL, NULL, 0) != -1 || m_text_predict(NULL, scores) != -1 ||
        m_text_feed(&zeroed, (const uint8_t *)"a", 1) != -3 || m_text_predict(&zeroed, scores) != -3) {{
        return 1;
    }}
    if (m_text_begin(s) != 0 || m_text_feed(s, (const uint8_t *)"ab", 2) != 0 || m_text_predict(s, scores) < 0 ||
        m_text_predict(s, scores) != -3 || m_text_feed(s, (const uint8_t *)"a", 1) != -3) {{
        return 1;
    }}
    if (m_text_begin(s) != 0 || m_text_feed(s, NULL, 1) != -1 || m_text_feed(s, (const uint8_t *)"a", 1) != -1 ||
        m_text_predict(s, scores) != -1) {{
        return 1;
    }}
    if (m_text_begin(s) != 0 || m_text_feed(s, (const uint8_t *)"a", (size_t)1 << 26) != -2 ||
        m_text_predict_with_arena(s, scores, (uint8_t *)arena + 1) != -3 || m_text_predict(s, scores) != -2) {{
        return 1;
    }}
    free(s);
    return 0;
}}
"""


@pytest.mark.skipif(not have("gcc"), reason="needs gcc")
@pytest.mark.parametrize("precision", ["int8", "float32"])
@pytest.mark.parametrize("model", ["text", "presence"])
def test_streaming_text_equals_one_shot(tmp_path, models, precision, model):
    """m_text_begin/_feed/_predict over chunks of 1, 2, 3, 7 and 64 bytes give the reference's
    class, bits and scores (those of the one-shot call) on every text, under the sanitizers; for
    the simhash and the presence projection (1000 bits: not a multiple of 32)."""
    from tests.compiler.model_factory import text_samples

    cm = compile_model(models[model], tmp_path / "m", name="m", precision=precision)
    texts = TEXTS + text_samples(40, seed=9)[0] + [("très long texte, " * 40).encode()]
    out = _build_and_run(tmp_path, [cm], _stream_main(texts), extra=["-fsanitize=address,undefined", "-g"])
    lines = out.splitlines()
    per_size = [lines[k::len(STREAM_CHUNKS)] for k in range(len(STREAM_CHUNKS))]
    for size_lines in per_size:
        _expect(cm, texts, size_lines)
