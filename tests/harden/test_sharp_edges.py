"""Wrong answers and sharp edges (docs/hardening.md, "Wrong answers and sharp edges"): data
labels matched to the model's by name, class ids that are not numbers, --limit, strict JSON,
--json on user errors, a kept verify directory reused by another model, bounded data files,
model and user strings shown through rich, a comma in -o, and hostile data files."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest

from pnetc.datasets import MAX_TEXT_BYTES, load_dataset, to_model_classes
from pnetc.errors import PnetcError
from tests.compiler import model_factory as mf
from tests.harden.conftest import assert_one_line_error, run_cli, time_bound

HAVE_ARM = shutil.which("arm-none-eabi-gcc") is not None
HOSTILE = "[/ham]"  # closes a rich markup tag that was never opened


def _float_predictions(model: Path, x: np.ndarray) -> np.ndarray:
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    return Reference(build_graph(model, precision="float32")).run(x).predictions


@pytest.fixture(scope="module")
def named_data(ref_models, tmp_path_factory):
    """An .npz holding only the samples the float model puts in classes c5..c9, labelled with
    those predicted names: its own ids are 0..4, the model's 5..9; every answer is right."""
    x = mf.dense_samples(1500, 64, seed=31)
    pred = _float_predictions(ref_models["dense"], x)
    keep = pred >= 5
    path = tmp_path_factory.mktemp("named") / "c5-c9.npz"
    np.savez(path, x=x[keep], y=np.array([f"c{p}" for p in pred[keep]]))
    return path


# ---- finding 5: labels by name ------------------------------------------------------------------


def test_eval_matches_data_labels_to_the_model_labels_by_name(ref_models, named_data):
    res = run_cli(["eval", str(ref_models["dense"]), "--data", str(named_data), "--json"])
    assert res.code == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["samples"] > 20 and out["accuracy"] == 1.0  # was 0.0: ids 0..4 compared with 5..9
    assert {k for k, v in out["per_class"].items() if v["samples"]} <= {f"c{i}" for i in range(5, 10)}


def test_verify_matches_labels_by_name(ref_models, named_data):
    from pnetc import api

    r = api.verify(ref_models["dense"], data=named_data, progress=False)
    assert r.ok and r.accuracy_float == 1.0


def test_run_matches_labels_by_name(ref_models, named_data):
    from pnetc import api
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    r = api.run(ref_models["dense"], "host", data=named_data, progress=False)
    x = load_dataset(str(named_data)).x_test
    int8 = Reference(build_graph(ref_models["dense"])).run(x).predictions
    expected = float(np.mean(int8 == _float_predictions(ref_models["dense"], x)))  # labels = float answers
    assert r.ok and r.accuracy_reference == pytest.approx(expected) and expected > 0.5


def test_label_translation_rules():
    y = np.array([0, 1, 2, 1])
    # by name, whatever the order of either side
    assert to_model_classes(["7", "5", "9"], y, [str(i) for i in range(10)], "d").tolist() == [7, 5, 9, 5]
    # integer labels against a model with named classes: they are the model's class ids
    assert to_model_classes(["3", "4", "6"], y, [f"c{i}" for i in range(10)], "d").tolist() == [3, 4, 6, 4]
    with pytest.raises(PnetcError, match=r"label\(s\) 'x' \(1 test samples\) are not classes of the model"):
        to_model_classes(["a", "b", "x"], y, ["a", "b"], "d")
    with pytest.raises(PnetcError, match="integer labels 12 are neither class names nor class ids 0..9"):
        to_model_classes(["3", "4", "12"], y, [f"c{i}" for i in range(10)], "d")
    # integer-named model classes never read data integers as ids: "0" is not the model's "1"
    with pytest.raises(PnetcError, match="'0'"):
        to_model_classes(["0", "1", "2"], y, ["1", "2", "3"], "d")


def test_unknown_data_label_is_one_line(ref_models, tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, x=mf.dense_samples(60, 64), y=np.array(["c1", "c2", "zebra"] * 20))
    assert_one_line_error(run_cli(["eval", str(ref_models["dense"]), "--data", str(path)]),
                          "'zebra'", "are not classes of the model")


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e20, np.nan, 2.5])
def test_class_ids_that_are_not_whole_numbers_are_refused_naming_the_row(tmp_path, bad):
    path = tmp_path / "y.npz"
    y = (np.arange(40) % 4).astype(np.float64)
    y[17] = bad
    np.savez(path, x=mf.dense_samples(40, 8), y=y)
    with pytest.raises(PnetcError, match=r"y\[17\] = .* is not a class id"):
        load_dataset(str(path))  # inf and 1e20 were an extra class (int64 min)


def test_huge_unsigned_class_id_is_refused(tmp_path):
    path = tmp_path / "y.npz"
    y = (np.arange(40) % 4).astype(np.uint64)
    y[3] = np.uint64(2**64 - 1)  # became -1 through astype(int64)
    np.savez(path, x=mf.dense_samples(40, 8), y=y)
    with pytest.raises(PnetcError, match=r"y\[3\] = 18446744073709551615 is not a class id"):
        load_dataset(str(path))


# ---- --limit --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["eval", "verify", "run"])
@pytest.mark.parametrize("limit", ["-358", "0"])
def test_limit_must_be_at_least_one(ref_models, cmd, limit):
    args = [cmd, str(ref_models["dense"]), "--dataset", "digits", "--limit", limit]
    if cmd == "run":
        args += ["-b", "host"]
    assert_one_line_error(run_cli(args), f"--limit must be at least 1, got {limit}")


def test_limit_in_the_api(ref_models):
    from pnetc import api
    from pnetc.evaluate import evaluate_model

    for call in (lambda: api.verify(ref_models["dense"], dataset="digits", limit=-358),
                 lambda: api.run(ref_models["dense"], "host", dataset="digits", limit=0),
                 lambda: evaluate_model(ref_models["dense"], dataset="digits", limit=2.5),
                 lambda: api.bench(ref_models["dense"], "host", n=0)):
        with pytest.raises(PnetcError, match="at least 1|whole number"):
            call()


def test_limit_takes_that_many_samples(ref_models, tmp_path):
    data = mf.write_dense_npz(tmp_path / "d.npz")
    res = run_cli(["eval", str(ref_models["dense"]), "--data", str(data), "--limit", "3", "--json"])
    assert res.code == 0 and json.loads(res.stdout.splitlines()[-1])["samples"] == 3


# ---- JSON ------------------------------------------------------------------------------------------


def test_json_line_is_strict():
    from pnetc.progress import json_line

    line = json_line({"a": float("nan"), "b": [np.float32("inf"), np.int64(3)], "c": 0.5})
    assert json.loads(line) == {"a": None, "b": [None, 3], "c": 0.5}
    assert "NaN" not in line and "Infinity" not in line


@pytest.mark.parametrize("cmd", [["eval", "{m}", "--dataset", "digits"], ["verify", "{m}", "--dataset", "digits"],
                                 ["inspect", "{m}"], ["compile", "{m}", "-o", "{o}"],
                                 ["build", "{m}", "-b", "host", "-o", "{o}"],
                                 ["run", "{m}", "-b", "host", "--dataset", "digits"],
                                 ["eval", "{m}", "--limit", "many"]])
def test_json_user_error_prints_an_error_object(tmp_path, cmd):
    m = tmp_path / "nope.onnx"
    res = run_cli([a.format(m=m, o=tmp_path / "out") for a in cmd] + ["--json"])
    line = assert_one_line_error(res)
    assert json.loads(res.stdout.strip().splitlines()[-1]) == {"error": line[len("pnetc: error: "):]}


def test_empty_test_split_is_refused_not_nan(ref_models, tmp_path):
    path = tmp_path / "one.npz"
    np.savez(path, x=mf.dense_samples(10, 64), y=np.arange(10))  # one sample per class: no test split
    res = run_cli(["eval", str(ref_models["dense"]), "--data", str(path), "--json"])
    assert_one_line_error(res, "no test samples", "at least 3")
    assert json.loads(res.stdout.splitlines()[-1])["error"]


# ---- verify --keep -------------------------------------------------------------------------------


def test_verify_keep_rebuilds_the_harness_for_a_new_model(tmp_path):
    from pnetc.evaluate import verify_model

    keep = tmp_path / "keep"
    data = mf.write_dense_npz(tmp_path / "d.npz", n=100, input_size=20, num_classes=4)
    first = mf.make_foreign_mlp(tmp_path / "a.onnx")  # no projection: its harness copies no bits
    second = mf.make_dense_model(tmp_path / "b.onnx", input_size=20, num_classes=4)
    for model in (first, second):
        r = verify_model(model, data=str(data), precision="float32", builds=("signed-char",), keep_dir=keep)
        assert r.mismatches == 0 and r.samples > 0


# ---- finding 6: bounded data -----------------------------------------------------------------------


def test_long_text_is_refused_quickly_naming_line_and_limit(tmp_path):
    path = tmp_path / "long.jsonl"
    rows = [{"text": f"short {i}", "label": "ab"[i % 2]} for i in range(20)]
    rows.insert(7, {"text": "x" * (10 << 20), "label": "a"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with time_bound(10):  # was 91 s and 816 MB in the reference
        with pytest.raises(PnetcError, match=f"line 8: the text is 10,485,760 bytes; .* at most {MAX_TEXT_BYTES:,}"):
            load_dataset(str(path))
    csv_path = tmp_path / "long.csv"
    csv_path.write_text("text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(10)) + "y" * 70000 + ",a\n")
    with pytest.raises(PnetcError, match="line 12: the text is 70,000 bytes"):
        load_dataset(str(csv_path))


def test_reference_refuses_an_over_long_text(ref_models):
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    ref = Reference(build_graph(ref_models["text"]))
    assert len(ref.run([b"a" * MAX_TEXT_BYTES]).predictions) == 1  # the limit itself is allowed
    with pytest.raises(PnetcError, match=f"text sample 1: the text is {MAX_TEXT_BYTES + 1:,} bytes"):
        ref.run([b"ok", b"a" * (MAX_TEXT_BYTES + 1)])


def test_data_file_size_and_sample_count_are_bounded(tmp_path, monkeypatch):
    from pnetc.datasets import MAX_DATA_FILE_BYTES, userdata

    big = tmp_path / "big.csv"
    with open(big, "wb") as f:  # sparse: nothing is written to disk
        f.truncate(MAX_DATA_FILE_BYTES + 1)
    with pytest.raises(PnetcError, match=f"at most {MAX_DATA_FILE_BYTES:,}"):
        load_dataset(str(big))
    monkeypatch.setattr(userdata, "MAX_SAMPLES", 50)
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({"text": f"t {i}", "label": "ab"[i % 2]}) + "\n" for i in range(51)))
    with pytest.raises(PnetcError, match="more than 50 samples"):
        load_dataset(str(many))


def _npz_declaring(path: Path, shape: tuple, dtype: str = "|u1") -> Path:
    """An .npz whose x.npy header declares `shape` but holds 16 bytes of data."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (dtype, shape)
    header = header + " " * (63 - (10 + len(header)) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 16
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", npy)
        buf = io.BytesIO()
        np.save(buf, np.zeros(4, np.int64))
        z.writestr("y.npy", buf.getvalue())
    return path


def test_npz_declaring_terabytes_is_refused_before_reading(tmp_path):
    path = _npz_declaring(tmp_path / "huge.npz", (1 << 20, 1 << 20))
    with time_bound(10), pytest.raises(PnetcError, match="1,099,511,627,808 bytes once uncompressed"):
        load_dataset(str(path))  # was a MemoryError traceback (numpy allocates the declared shape)


def test_gzip_idx_expanding_past_the_limit_is_refused(tmp_path, monkeypatch):
    import gzip

    from pnetc.datasets import idx

    monkeypatch.setattr(idx, "MAX_DATA_FILE_BYTES", 1 << 20)
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (1 << 16, 64, 64))
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + bytes(4 << 20)))  # 4 KB on disk
    with pytest.raises(PnetcError, match="holds more than 1,048,576 bytes, the limit for a data file"):
        load_dataset(str(tmp_path))  # was decompressed whole, however big (a gzip bomb)


# ---- finding 8: tracebacks -----------------------------------------------------------------------


@pytest.mark.parametrize("arrays, message", [
    (dict(x=np.zeros((30, 0), np.uint8), y=np.arange(30) % 3), "x has no features"),
    (dict(x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 3, x_test=np.zeros((0, 4), np.uint8),
          y_test=np.zeros(0, np.int64)), "no test samples"),
    (dict(x=np.zeros((3, 4), np.uint8), y=np.arange(3)), "no test samples"),
    (dict(x=np.zeros((30, 70000), np.uint8), y=np.arange(30) % 3), "at most 65,536 values per sample"),
    (dict(x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 3, zero_point=np.float64("nan")), "zero_point must be"),
    (dict(x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 3, zero_point=np.float64("inf")), "zero_point must be"),
    (dict(x=np.zeros((30, 4), np.uint8), y=np.array([b"\xff"] * 30)), "not UTF-8"),
])
def test_degenerate_npz_is_one_line_error(ref_models, tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(PnetcError, match=message):
        load_dataset(str(path))
    assert_one_line_error(run_cli(["train", "--dataset", str(path), "--out", str(tmp_path / "t"), "--epochs", "1"]),
                          message)


def _hostile_model(src: Path, dest: Path) -> Path:
    """src with HOSTILE in every node name and as one label."""
    m = onnx.load(str(src))
    for node in m.graph.node:
        node.name = HOSTILE + node.name
    for p in m.metadata_props:
        if p.key == "pnetc.labels":
            labels = json.loads(p.value)
            labels[1] = HOSTILE
            p.value = json.dumps(labels)
    onnx.save(m, str(dest))
    return dest


@pytest.fixture(scope="module")
def hostile_model(ref_models, tmp_path_factory):
    d = tmp_path_factory.mktemp("markup") / "[bold]m"  # rich dropped such tags from paths
    d.mkdir()
    return _hostile_model(ref_models["dense"], d / "[red]x.onnx")


@pytest.mark.parametrize("cmd", [["inspect", "{m}"], ["eval", "{m}", "--data", "{d}"],
                                 ["verify", "{m}", "--data", "{d}", "--limit", "5"],
                                 ["run", "{m}", "-b", "host", "--data", "{d}", "--limit", "5"],
                                 ["build", "{m}", "-b", "host", "-o", "{o}"]])
def test_model_and_user_strings_are_not_rich_markup(hostile_model, tmp_path, cmd):
    data = tmp_path / "[red]d.npz"
    x = mf.dense_samples(100, 64)
    np.savez(data, x=x, y=np.array([HOSTILE if i % 2 else "c3" for i in range(100)]))
    out = tmp_path / "[bold]o"
    res = run_cli([a.format(m=hostile_model, d=data, o=out) for a in cmd], seconds=120)
    assert res.code == 0, res.stderr
    text = " ".join(res.stdout.split())
    if cmd[0] == "inspect":
        assert HOSTILE in text and "[red]x.onnx (image" in text
    if cmd[0] == "eval":
        assert HOSTILE in text and "[red]x.onnx on [red]d" in text
    if cmd[0] == "verify":
        assert "verify [red]x.onnx" in text
    if cmd[0] == "run":
        assert "of [red]d" in text
    if cmd[0] == "build":
        assert "[bold]o" in text


def test_progress_labels_are_not_markup():
    from rich.console import Console
    from rich.progress import Progress, TextColumn

    from pnetc.progress import Tracker

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    bar = Progress(TextColumn("{task.description}"), console=console)
    t = Tracker(bar, HOSTILE)
    t.stage("[/stage]")
    console.print(bar.get_renderable())
    assert f"{HOSTILE} · [/stage]" in console.file.getvalue()


@pytest.mark.skipif(not HAVE_ARM, reason="arm-none-eabi-gcc is not installed")
def test_comma_in_output_directory(ref_models, tmp_path):
    out = tmp_path / "a,b" / "fw"
    res = run_cli(["build", str(ref_models["dense"]), "-b", "mps2-an385", "-o", str(out), "--json"], 120)
    assert res.code == 0, res.stderr  # -Wl,-Map=.../a,b/... split the path at the comma
    assert json.loads(res.stdout.splitlines()[-1])["map"] == str(out / "firmware.map")
    assert (out / "firmware.map").stat().st_size > 0


# ---- hostile data files ------------------------------------------------------------------------------


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PICKLE_RAN",))


def _hostile_files(d: Path) -> list[tuple[str, Path]]:
    cases = []

    def text(name: str, data: bytes):
        (d / name).write_bytes(data)
        cases.append((name, d / name))

    def npz(name: str, **arrays):
        np.savez(d / name, **arrays)
        cases.append((name, d / name))

    rows = "".join(f"t{i},{'ab'[i % 2]}\r\n" for i in range(20)).encode()
    text("bom_crlf.csv", b"\xef\xbb\xbftext,label\r\n" + rows)
    text("dup_header.csv", b"text,label,Text\n" + b"a,b,c\n")
    text("empty.csv", b"")
    text("only_header.csv", b"text,label\n")
    text("nul.csv", b"text,label\nab\0c,x\n")
    text("ragged.csv", b"text,label\na,b\nc\n")
    text("latin1.csv", b"text,label\ncaf\xe9,x\n")
    text("blank_lines.csv", b"\n\n\ntext,label\n\n" + rows)
    text("crlf.jsonl", b"".join(json.dumps({"text": f"t{i}", "label": "ab"[i % 2]}).encode() + b"\r\n"
                                 for i in range(20)))
    text("bom.jsonl", b"\xef\xbb\xbf" + b"".join(json.dumps({"text": f"t{i}", "label": i % 2}).encode() + b"\n"
                                                  for i in range(20)))
    text("array.jsonl", b"[1, 2]\n")
    text("nested_label.jsonl", b'{"text": "a", "label": {"x": 1}}\n')
    text("null_text.jsonl", b'{"text": null, "label": "a"}\n')
    text("bool_label.jsonl", b'{"text": "a", "label": true}\n')
    text("surrogate.jsonl", b'{"text": "a\\ud800", "label": "a"}\n')
    text("surrogate_label.jsonl", b'{"text": "a", "label": "\\udfff"}\n')
    text("huge_number.jsonl", b'{"text": "a", "label": 1e999}\n')
    text("deep.jsonl", b'{"text": "a", "label": ' + b"[" * 100000 + b"]" * 100000 + b"}\n")
    text("empty.npz", b"")
    npz("object_x.npz", x=np.array([[{"a": 1}]], dtype=object), y=np.zeros(1))
    npz("object_y.npz", x=np.zeros((30, 4), np.uint8), y=np.array([None] * 30, dtype=object))
    npz("record_x.npz", x=np.zeros((30, 2), dtype=[("a", "u1"), ("b", "u1")]), y=np.arange(30) % 3)
    npz("complex_x.npz", x=np.zeros((30, 4), np.complex64), y=np.arange(30) % 3)
    npz("negative_x.npz", x=-np.ones((30, 4), np.int16), y=np.arange(30) % 3)
    npz("scalar_x.npz", x=np.array(3), y=np.zeros(1))
    npz("ragged_y.npz", x=np.zeros((30, 4), np.uint8), y=np.zeros((30, 2)))
    npz("short_y.npz", x=np.zeros((30, 4), np.uint8), y=np.zeros(29))
    npz("neg_labels.npz", x=np.arange(120, dtype=np.uint8).reshape(30, 4), y=np.arange(30) % 3 - 1)
    npz("bad_labels_ids.npz", x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 3, labels=np.array(["a", "b"]))
    npz("dup_labels.npz", x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 2, labels=np.array(["a", "a"]))
    npz("x_test_shape.npz", x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 2, x_test=np.zeros((5, 3), np.uint8),
        y_test=np.zeros(5))
    npz("scale_array.npz", x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 2, scale=np.ones(3))
    npz("scale_zero.npz", x=np.zeros((30, 4), np.uint8), y=np.arange(30) % 2, scale=np.float64(0))
    # a pickle inside the archive (what np.save writes for an object array with allow_pickle=True)
    buf = io.BytesIO()
    np.save(buf, np.array([_Boom()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(d / "pickle.npz", "w") as z:
        z.writestr("x.npy", buf.getvalue())
        z.writestr("y.npy", buf.getvalue())
    cases.append(("pickle.npz", d / "pickle.npz"))
    with zipfile.ZipFile(d / "not_npy.npz", "w") as z:
        z.writestr("x", b"raw bytes")
        z.writestr("y.npy", b"\x93NUMPY garbage")
    cases.append(("not_npy.npz", d / "not_npy.npz"))
    with zipfile.ZipFile(d / "bad_header.npz", "w") as z:
        z.writestr("x.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}   \n")
        z.writestr("y.npy", b"")
    cases.append(("bad_header.npz", d / "bad_header.npz"))
    _npz_declaring(d / "short_data.npz", (30, 4))  # the header promises more bytes than the member holds
    cases.append(("short_data.npz", d / "short_data.npz"))
    return cases


LOADS = {"bom_crlf.csv", "blank_lines.csv", "crlf.jsonl", "bom.jsonl", "neg_labels.npz"}


def test_hostile_data_files_load_or_fail_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "files"
    d.mkdir()
    for name, path in _hostile_files(d):
        with time_bound(20):
            try:
                ds = load_dataset(str(path))
            except PnetcError as exc:
                assert name not in LOADS, f"{name}: {exc}"
                assert str(path) in str(exc), f"{name}: the error does not name the file: {exc}"
                continue
        assert name in LOADS, f"{name} loaded: {ds.labels}"
        assert sorted(ds.labels) == (["-1", "0", "1"] if name == "neg_labels.npz" else ["0", "1"] if
                                     name == "bom.jsonl" else ["a", "b"])
        if ds.task == "text":
            assert all(b"\r" not in t and not t.startswith(b"\xef\xbb\xbf") for t in ds.x_train + ds.x_test)
    assert not (tmp_path / "PICKLE_RAN").exists()
