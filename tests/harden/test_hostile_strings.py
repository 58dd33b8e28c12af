"""Names from a model can only change comments of the generated files (docs/hardening.md,
"Generated code and names from a model").

Each hostile string goes into every string field of a model: node names, tensor names (inputs,
outputs, initializers, the calibration metadata that refers to them), doc strings, the graph name,
producer, metadata keys and values, the class labels, the model's file name and the calibration
file's name. The model is compiled (int8 and float32, plain and --package cmake/zephyr/arduino) and
compared with the same model under benign names:
  * every .c file builds with -std=c99 -Wall -Wextra -Wconversion -Wdouble-promotion -Werror -pedantic,
  * its preprocessed token stream (gcc -E -dD: macro definitions included, comments gone) is
    identical to the benign one,
  * the other files (.mk, CMake, Kconfig, YAML, library.properties) differ only in whole comment
    lines, which hold printable ASCII and cannot continue onto the next line,
  * the Arduino sketch differs only in the label string literals, which decode to the labels' bytes.
Benign and hostile names share their suffixes, so anything that orders by name sees the same order.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest

from pnetc.codegen.context import c_label
from pnetc.codegen.escape import COMMENT_MAX, Fragment, UnescapedText, c_comment, c_string
from pnetc.codegen.render import environment
from pnetc.compiler import compile_model
from tests.compiler import model_factory as mf
from tests.harden.conftest import assert_one_line_error, run_cli

GCC = shutil.which("gcc")
GXX = shutil.which("g++")
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wdouble-promotion", "-Werror", "-pedantic"]
SHIM = Path(__file__).resolve().parents[1] / "packages" / "arduino_shim"
INJECT = '*/\n#define PNET_STAGE_MARK(k) system("id > pwned")\n/*'

HOSTILE = {
    "close_comment": "*/ int pwned = 1; /*",
    "open_comment": "/* nested /* comment",
    "line_comment": "// the rest of the line",
    "define": INJECT,
    "newline": "a\nb\n\n#include <stdio.h>\n",
    "carriage_return": "a\rb\r\n#define X 1\r",
    "trigraphs": "??/\n??= define X ??( ??) ??< ??> ??' ??! ??-",
    "backslash_end": "name\\",
    "nul": "a\x00b\x00",
    "quotes": "\"'` $(shell id) ${HOME} $$ @echo",
    "percent_hash": "%s %n %0A #pragma once ## # %:define",
    "controls": "".join(map(chr, range(1, 32))) + "\x7f",
    "non_ascii": "Größe 中文 🦀 \u202e\u2028\u2029\ufeff é",
    "long": ("A*/\n" * 25000)[:100000],
}
# every hostile thing at once, with a lone surrogate (valid in JSON metadata, not encodable as UTF-8)
KITCHEN_SINK = "".join(HOSTILE[k] for k in HOSTILE if k != "long") + "\ud800[/ham]"


# ---------------------------------------------------------------- models under a given name set

def _rename(model: onnx.ModelProto, label_text: str) -> onnx.ModelProto:
    """Every string field of `model` ends in the text (node n{i}, tensor t{i}, label l{i}, ...);
    protobuf strings hold no lone surrogate, so only the JSON metadata (labels) keeps one."""
    text = label_text.encode("utf-8", "surrogatepass").decode("utf-8", "ignore")
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    tensors = [vi.name for vi in g.input] + [i.name for i in g.initializer]
    for node in g.node:
        tensors += [t for t in node.output if t]
    names = {t: f"t{i:03d}{text}" for i, t in enumerate(dict.fromkeys(tensors))}
    for i, node in enumerate(g.node):
        node.name = f"n{i:03d}{text}"
        node.doc_string = text
        node.input[:] = [names.get(t, t) for t in node.input]
        node.output[:] = [names.get(t, t) for t in node.output]
    for init in g.initializer:
        init.name = names[init.name]
        init.doc_string = text
    for vi in [*g.input, *g.output, *g.value_info]:
        vi.name = names[vi.name]
        vi.doc_string = text
    g.name = "g" + text
    g.doc_string = text
    m.doc_string = text
    m.producer_name = "p" + text
    meta = {p.key: json.loads(p.value) for p in m.metadata_props}
    meta["pnetc.calibration"] = {names.get(k, k): v for k, v in meta.get("pnetc.calibration", {}).items()}
    meta["pnetc.labels"] = [f"l{i}{label_text}" for i in range(len(meta["pnetc.labels"]))]
    meta["pnetc.training"] = {"note": label_text, "k" + label_text: label_text}
    del m.metadata_props[:]
    for key, value in meta.items():
        m.metadata_props.add(key=key, value=json.dumps(value))
    m.metadata_props.add(key="x" + text, value=text)
    return m


def _file_name(text: str, limit: int = 200) -> str:
    """'m' + as much of `text` as a file name holds (no '/' or NUL, at most `limit` UTF-8 bytes)."""
    raw = text.replace("/", "|").replace("\x00", "0").encode("utf-8", "surrogatepass")[:limit]
    return "m" + raw.decode("utf-8", "ignore")


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-bases")
    dense = onnx.load(str(mf.make_dense_model(d / "dense.onnx", hidden=(24, 16))))
    for node in dense.graph.node:  # a tanh layer: its int8 table carries the node name in a comment
        if node.op_type == "Relu" and node.name == "Relu_1":
            node.op_type = "Tanh"
    text = onnx.load(str(mf.make_text_model(d / "text.onnx")))
    np.savez(d / "calib.npz", x=mf.dense_samples(64, 64, seed=5))
    return {"dense": dense, "text": text, "calib": d / "calib.npz", "dir": d}


def _write_model(bases, kind: str, text: str, where: Path) -> tuple[Path, Path]:
    """(model file, calibration file), both named after `text`."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / _file_name(text)
    onnx.save(_rename(bases[kind], text), str(path))
    calib = where / (_file_name(text, 100) + ".npz")
    shutil.copyfile(bases["calib"], calib)
    return path, calib


CONFIGS = {  # name -> (model, precision, package, use a calibration file)
    "dense-int8": ("dense", "int8", None, True),
    "dense-float32": ("dense", "float32", None, False),
    "text-int8": ("text", "int8", None, False),
    "dense-int8-cmake": ("dense", "int8", "cmake", False),
    "dense-float32-zephyr": ("dense", "float32", "zephyr", False),
    "dense-int8-arduino": ("dense", "int8", "arduino", True),
    "text-float32-arduino": ("text", "float32", "arduino", False),
}


def _compile(bases, config: str, text: str, out: Path):
    kind, precision, package, with_calib = CONFIGS[config]
    model, calib = _write_model(bases, kind, text, out / "src")
    return compile_model(model, out / "gen", name="hostile", precision=precision, package=package,
                         calib=calib if with_calib else None)


@pytest.fixture(scope="module")
def benign(bases, tmp_path_factory):
    """The reference compiles: the same models with the suffix 'ok' everywhere."""
    d = tmp_path_factory.mktemp("hostile-benign")
    return {c: _compile(bases, c, "ok", d / c) for c in CONFIGS}


# ---------------------------------------------------------------- comparisons

_TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|[A-Za-z0-9_.]+|\S')


def _tokens(cc: str, src: Path, includes, lang: list[str] = ()) -> list[str]:
    cmd = [cc, *lang, "-E", "-P", "-dD", *[f"-I{d}" for d in includes], str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    assert r.returncode == 0, " ".join(cmd) + "\n" + r.stderr[:2000]
    return _TOKEN.findall(r.stdout)


def _strict_build(cm, work: Path) -> None:
    for src in cm.sources:
        cmd = [GCC, *STRICT, *[f"-I{d}" for d in cm.include_dirs], "-c", str(src), "-o", str(work / "x.o")]
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        assert r.returncode == 0, " ".join(cmd) + "\n" + r.stderr[:4000]


def _c_literal_bytes(token: str) -> bytes:
    """The bytes of a C string literal as c_string writes it (octal and single-char escapes)."""
    assert token[0] == token[-1] == '"', token
    body, out, i = token[1:-1], bytearray(), 0
    while i < len(body):
        if body[i] != "\\":
            out.append(ord(body[i]))
            i += 1
        elif body[i + 1] in "01234567":
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(ord(body[i + 1]))
            i += 2
    return bytes(out)


def _comment_lines_only(benign: str, hostile: str, rel: str) -> None:
    """Build files (make, CMake, Kconfig, YAML, properties): the same lines except '#' comment lines,
    and those are one printable-ASCII line each that no backslash continues."""
    b, h = benign.splitlines(), hostile.splitlines()
    assert len(b) == len(h), f"{rel}: {len(h)} lines, benign {len(b)}"
    for lb, lh in zip(b, h):
        if lb != lh:
            assert lh.lstrip().startswith("#") and lb.lstrip().startswith("#"), f"{rel}: {lh[:200]!r}"
        assert lh.isascii() and lh.replace("\t", " ").isprintable(), f"{rel}: {lh[:200]!r}"
        assert not (lh.lstrip().startswith("#") and lh.endswith("\\")), f"{rel}: {lh[:200]!r}"


def _check_sketch(benign_cm, cm, labels: list[str]) -> None:
    rel = next(p for p in cm.files if p.endswith(".ino"))
    args = (["-x", "c++", "-std=gnu++11", "-include", "Arduino.h"])
    ins = [SHIM, cm.out_dir / "src"]
    tb = _tokens(GXX, benign_cm.out_dir / rel, [SHIM, benign_cm.out_dir / "src"], args)
    th = _tokens(GXX, cm.out_dir / rel, ins, args)
    start = th.index("labels")  # static const char *const labels[N] = { "..." , "..." };
    end = th.index("}", start)
    literals = [t for t in th[start:end] if t.startswith('"')]
    assert [_c_literal_bytes(t) for t in literals] == [s.encode("utf-8", "surrogatepass") for s in labels]
    assert th[:start] == tb[:start] and th[end:] == tb[tb.index("}", start):]
    r = subprocess.run([GXX, *args, "-fsyntax-only", "-Wall", "-Wextra", "-Werror", *[f"-I{d}" for d in ins],
                        str(cm.out_dir / rel)], capture_output=True, text=True, errors="replace")
    assert r.returncode == 0, r.stderr[:4000]


def _label_literals(tokens: list[str], name: str) -> tuple[int, int]:
    """(start, end) of the initializer of NAME_labels[...] = { "...", ... } among the tokens, or (0, 0)."""
    for i, t in enumerate(tokens):
        if t == f"{name}_labels" and "=" in tokens[i:i + 8]:
            start = tokens.index("{", i)
            return start, tokens.index("}", start)
    return 0, 0


def check_only_comments_differ(benign_cm, cm, work: Path) -> None:
    assert sorted(cm.files) == sorted(benign_cm.files)
    _strict_build(cm, work)
    for src, ref in zip(cm.sources, benign_cm.sources):
        th = _tokens(GCC, src, cm.include_dirs, ["-std=c99"])
        tb = _tokens(GCC, ref, benign_cm.include_dirs, ["-std=c99"])
        start, end = _label_literals(th, cm.name)
        if end:  # the class names: (adjacent) string literals holding exactly the labels' bytes, the rest unchanged
            names = [b""]
            for t in th[start + 1:end]:
                if t == ",":
                    names.append(b"")
                else:
                    names[-1] += _c_literal_bytes(t)
            assert names[:-1] == [c_label(s) for s in cm.labels] and names[-1] == b""
            b_start, b_end = _label_literals(tb, benign_cm.name)
            th, tb = th[:start] + th[end:], tb[:b_start] + tb[b_end:]
        assert th == tb, f"{src.name}: the code changed"
    for rel, text in cm.files.items():
        if rel.endswith((".c", ".h", ".ino")):
            continue
        _comment_lines_only(benign_cm.files[rel], text, rel)
    if any(p.endswith(".ino") for p in cm.files):
        _check_sketch(benign_cm, cm, cm.labels)


# ---------------------------------------------------------------- tests

needs_gcc = pytest.mark.skipif(GCC is None or GXX is None, reason="needs gcc and g++")


@needs_gcc
@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("config", ["dense-int8", "text-int8"])  # float32: the kitchen sink below
def test_hostile_string_changes_only_comments(bases, benign, tmp_path, case, config):
    cm = _compile(bases, config, HOSTILE[case], tmp_path)
    check_only_comments_differ(benign[config], cm, tmp_path)
    if case == "define":  # the attack of the issue: the comment holds the text, defused
        assert "%0A#define PNET_STAGE_MARK(k) system(\"id > pwned\")%0A/" in cm.files["hostile.c"]


@needs_gcc
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_kitchen_sink_in_every_package(bases, benign, tmp_path, config):
    cm = _compile(bases, config, KITCHEN_SINK, tmp_path)
    assert cm.labels[0] == "l0" + KITCHEN_SINK
    check_only_comments_differ(benign[config], cm, tmp_path)


@needs_gcc
@pytest.mark.parametrize("config", ["dense-int8-cmake", "text-float32-arduino"])
def test_long_names_in_packages(bases, benign, tmp_path, config):
    cm = _compile(bases, config, HOSTILE["long"], tmp_path)
    check_only_comments_differ(benign[config], cm, tmp_path)
    # a comment line holds at most two capped names (the provenance's file name and hash)
    longest = max(len(line) for rel, text in cm.files.items() if not rel.endswith(".ino") for line in text.splitlines())
    assert longest < 2 * COMMENT_MAX + 200


@needs_gcc
def test_names_that_collide_with_pnetc_buffer_names(bases, benign, tmp_path):
    """Every node named like the projection ("n000ok") and a tensor named like a scratch buffer:
    buffers are keyed by step, so the memory plan, and so the code, stays the benign one."""
    m = _rename(bases["text"], "ok")
    for node in m.graph.node:
        node.name = "n000ok"
    src = tmp_path / "src"
    src.mkdir()
    onnx.save(m, str(src / "mok"))
    cm = compile_model(src / "mok", tmp_path / "gen", name="hostile", precision="int8")
    check_only_comments_differ(benign["text-int8"], cm, tmp_path)


def test_compile_cli_with_hostile_names(bases, tmp_path):
    model, _ = _write_model(bases, "dense", KITCHEN_SINK, tmp_path / "src")
    res = run_cli(["compile", str(model), "-o", str(tmp_path / "out"), "--name", "hostile"])
    assert res.code == 0 and "Traceback" not in res.stderr, res.stderr
    assert (tmp_path / "out" / "hostile.c").is_file()


def test_invalid_utf8_name_is_one_line_error(bases, tmp_path):
    """protobuf keeps a name that is not UTF-8 (a hand-made file): pnetc refuses it in one line."""
    data = _rename(bases["dense"], "ok").SerializeToString()
    assert data.count(b"n001ok") == 1
    path = tmp_path / "bad.onnx"
    path.write_bytes(data.replace(b"n001ok", b"n\xff\xfe\xc3ok"))
    assert_one_line_error(run_cli(["compile", str(path), "-o", str(tmp_path / "out")]), "UTF-8")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the output check itself

@pytest.mark.parametrize("value", ["two words", "a*/b", "x\ny", "1abc", "tiny.onnx", "-O2", 1.5, None, True,
                                   b"bytes", ["list"], np.float32(1.0)])
def test_finalize_refuses_raw_text(value):
    with pytest.raises(UnescapedText):
        environment().from_string("/* {{ v }} */").render(v=value)


@pytest.mark.parametrize("value, out", [("tiny_2", "tiny_2"), ("", ""), (7, "7"), (np.int64(-3), "-3"),
                                        (Fragment("0x01u"), "0x01u")])
def test_finalize_passes_numbers_identifiers_fragments(value, out):
    assert environment().from_string("{{ v }}").render(v=value) == out


def test_every_template_output_is_checked(tmp_path):
    """A model name that reaches a template without a filter stops the compile (a pnetc bug), it
    does not reach a file: the hook sees every {{ }} of the real environment."""
    assert environment().finalize is not None
    with pytest.raises(UnescapedText):
        environment().get_template("_provenance.j2").render(version="1", source="x", sha256="0", options={})
    out = environment().from_string("/* {{ v | c_comment }} */ {{ v | c_string }}").render(v=INJECT)
    assert out == ('/* %2A/%0A#define PNET_STAGE_MARK(k) system("id > pwned")%0A/%2A */ '
                   '"*/\\012#define PNET_STAGE_MARK(k) system(\\"id > pwned\\")\\012/*"')


def test_c_comment_alphabet_and_cap():
    text = "".join(map(chr, range(0, 0x250))) + KITCHEN_SINK + "x" * 1000
    out = c_comment(text)
    assert isinstance(out, Fragment) and len(out) <= COMMENT_MAX + 3 and out.endswith("...")
    assert out.isascii() and out.isprintable() and not set(out) & set("*\\?")
    assert c_comment("Gemm_0: int8 weights [out][in]") == "Gemm_0: int8 weights [out][in]"
    assert c_comment("a*/b%") == "a%2A/b%25" and c_comment("é\n") == "%C3%A9%0A"


@pytest.mark.parametrize("data", [KITCHEN_SINK, b"\x00\xff\"\\??/\n", bytes(range(256))])
def test_c_string_round_trip(data):
    lit = c_string(data)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    assert lit.isascii() and lit.isprintable() and "??" not in lit and _c_literal_bytes(lit) == raw
