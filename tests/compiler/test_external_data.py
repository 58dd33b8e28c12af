"""External tensor data is read only from the model's own folder, with its size checked against
the tensor's shape (pnetc/frontend/external_data.py). A hostile model must never pull another
file (a secret in the working directory, /etc/passwd, a FIFO) into its weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pnetc.compiler import build_graph, compile_model
from pnetc.errors import PnetcError
from pnetc.frontend import load_model

BIAS = "fc0.bias"  # float32 [32] in the factory's dense model: 128 bytes
SECRET = b"API_KEY=0123456789abcdef0123456789abcdef" * 4  # 160 bytes: more than the bias needs


def _externalize(src: Path, dst: Path, location: str, *, offset=None, length=None, tensor: str = BIAS) -> Path:
    """`src` with one initializer's data moved to external data at `location` (no file written)."""
    model = onnx.load(str(src))
    t = next(t for t in model.graph.initializer if t.name == tensor)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, str(value)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(model.SerializeToString())  # onnx.save would try to handle the external data itself
    return dst


def _c_files(out: Path) -> dict[str, list[str]]:
    """Generated files without the provenance line (it names the model file and its digest)."""
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            files[str(p.relative_to(out))] = [ln for ln in p.read_text().splitlines() if "sha256" not in ln]
    return files


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pnetc", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})


@pytest.fixture()
def dense(models):
    return models["dense"]


def test_saved_with_external_data_compiles_like_inline_from_any_cwd(tmp_path, dense, monkeypatch):
    model_dir = tmp_path / "zoo"
    model_dir.mkdir()
    ext = model_dir / "model.onnx"
    onnx.save_model(onnx.load(str(dense)), str(ext), save_as_external_data=True, size_threshold=0,
                    location="model.onnx.data")
    assert (model_dir / "model.onnx.data").stat().st_size > 12000
    compile_model(dense, tmp_path / "inline")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for i, cwd in enumerate([elsewhere, model_dir, Path("/")]):
        monkeypatch.chdir(cwd)
        compile_model(ext, tmp_path / f"ext{i}")
        assert _c_files(tmp_path / f"ext{i}") == _c_files(tmp_path / "inline")


def test_digest_covers_the_external_data(tmp_path, dense):
    ext = tmp_path / "m" / "model.onnx"
    ext.parent.mkdir()
    onnx.save_model(onnx.load(str(dense)), str(ext), save_as_external_data=True, size_threshold=0, location="w.bin")
    before = load_model(ext).info.sha256
    data = bytearray((ext.parent / "w.bin").read_bytes())
    data[-1] ^= 1  # a different last weight, same .onnx file
    (ext.parent / "w.bin").write_bytes(bytes(data))
    assert load_model(ext).info.sha256 != before


def test_secret_in_cwd_is_never_read(tmp_path, dense):
    """The reported attack: location '.env' resolved against the working directory."""
    work = tmp_path / "project"
    work.mkdir()
    (work / ".env").write_bytes(SECRET)
    (work / "secret.bin").write_bytes(SECRET)
    for location, message in ((".env", "hidden"), ("secret.bin", "does not exist in the model's folder")):
        model = _externalize(dense, tmp_path / "downloads" / f"m_{location.strip('.')}.onnx", location,
                             offset=0, length=128)
        r = _cli("compile", model, "-o", tmp_path / "out", cwd=work)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("pnetc: error:"), r.stderr
        assert message in lines[0] and BIAS in lines[0]
        assert not (tmp_path / "out").exists()


def test_secret_next_to_the_model_in_a_hidden_file_is_refused(tmp_path, dense):
    (tmp_path / ".env").write_bytes(SECRET)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_bytes(SECRET)
    for location in (".env", ".git/config", "./.env", "sub/../.env"):
        with pytest.raises(PnetcError, match="hidden"):
            load_model(_externalize(dense, tmp_path / "m.onnx", location, offset=0, length=128))


@pytest.mark.parametrize("location, message", [
    ("../secret", r"'\.\.'"),
    ("sub/../../secret", r"'\.\.'"),
    ("/etc/passwd", "relative path"),
    ("//etc/passwd", "relative path"),
    ("C:/secret", "relative path"),
    ("..\\secret", "relative path"),
    ("", "no location"),
])
def test_locations_outside_the_folder_are_refused(tmp_path, dense, location, message):
    (tmp_path / "secret").write_bytes(SECRET)
    model = _externalize(dense, tmp_path / "models" / "m.onnx", location, offset=0, length=128)
    with pytest.raises(PnetcError, match=message):
        load_model(model)


def test_symlinks_may_not_leave_the_folder(tmp_path, dense):
    folder = tmp_path / "models"
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.bin").write_bytes(SECRET)
    model = _externalize(dense, folder / "m.onnx", "w.bin", offset=0, length=128)
    (folder / "w.bin").symlink_to(tmp_path / "outside" / "secret.bin")
    with pytest.raises(PnetcError, match="leaves the model's folder"):
        load_model(model)
    (folder / "sub").symlink_to(tmp_path / "outside")  # a symlinked directory
    with pytest.raises(PnetcError, match="leaves the model's folder"):
        load_model(_externalize(dense, folder / "m2.onnx", "sub/secret.bin", offset=0, length=128))
    (folder / "zero").symlink_to("/dev/zero")
    with pytest.raises(PnetcError, match="leaves the model's folder"):
        load_model(_externalize(dense, folder / "m3.onnx", "zero", offset=0, length=128))
    # a symlink that stays inside the folder is fine
    (folder / "real.bin").write_bytes(np.arange(32, dtype=np.float32).tobytes())
    (folder / "alias.bin").symlink_to("real.bin")
    g = load_model(_externalize(dense, folder / "m4.onnx", "alias.bin", offset=0, length=128))
    assert g.ops[1].bias.tolist() == list(range(32))


def test_odd_locations_are_one_short_line(tmp_path, dense):
    """A symlink loop (RuntimeError in pathlib), a 100,000-character or NUL-holding location, a path
    through a file: each one short line."""
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    (tmp_path / "w.bin").write_bytes(bytes(128))
    for location, message in (("loop1", "cannot be resolved"), ("a" * 100_000, "must be a relative path"),
                              ("w\0.bin", "must be a relative path"), ("w.bin/x", "Not a directory")):
        with pytest.raises(PnetcError, match=message) as info:
            load_model(_externalize(dense, tmp_path / "m.onnx", location, offset=0, length=128))
        assert len(str(info.value)) < 300 and "\n" not in str(info.value)


def test_model_reached_through_a_symlink_reads_its_real_folder(tmp_path, dense):
    real = tmp_path / "real"
    real.mkdir()
    (real / "w.bin").write_bytes(np.ones(32, np.float32).tobytes())
    model = _externalize(dense, real / "m.onnx", "w.bin", offset=0, length=128)
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    (link_dir / "w.bin").write_bytes(SECRET[:128])
    (link_dir / "m.onnx").symlink_to(model)
    assert load_model(link_dir / "m.onnx").ops[1].bias.tolist() == [1.0] * 32


def test_fifo_and_directory_are_not_regular_files(tmp_path, dense):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "adir").mkdir()
    for location in ("pipe", "adir"):
        model = _externalize(dense, tmp_path / f"m_{location}.onnx", location, offset=0, length=128)
        r = _cli("compile", model, "-o", tmp_path / "out", cwd=tmp_path)  # a FIFO must not block (timeout 120 s)
        assert r.returncode == 2 and "is not a regular file" in r.stderr and len(r.stderr.splitlines()) == 1
    os.mkfifo(tmp_path / "model_pipe.onnx")
    with pytest.raises(PnetcError, match="not a regular file"):
        load_model(tmp_path / "model_pipe.onnx")


@pytest.mark.parametrize("size, offset, length, message", [
    (100, 0, 128, "holds 100 bytes from offset 0; the shape \\[32\\] needs exactly 128"),
    (128, 0, 64, "length 64 does not match its shape \\[32\\] \\(128 bytes\\)"),
    (128, 0, 256, "length 256 does not match"),
    (200, 100, 128, "holds 100 bytes from offset 100"),
    (128, 500, 128, "holds 0 bytes from offset 500"),
    (200, 0, None, "holds 200 bytes from offset 0"),  # no length: the rest of the file must be the tensor
    (128, -5, 128, "offset '-5' is not a non-negative integer"),
    (128, "0x10", 128, "offset '0x10' is not"),
    (128, 0, " 128", "length ' 128' is not"),
    (128, 10**30, 128, "is not a non-negative integer"),
])
def test_sizes_must_match_the_declared_shape(tmp_path, dense, size, offset, length, message):
    (tmp_path / "w.bin").write_bytes(bytes(range(256))[:size] if size <= 256 else bytes(size))
    with pytest.raises(PnetcError, match=message):
        load_model(_externalize(dense, tmp_path / "m.onnx", "w.bin", offset=offset, length=length))


def test_exact_size_at_an_offset_is_read(tmp_path, dense):
    values = np.linspace(-1, 1, 32, dtype=np.float32)
    (tmp_path / "w.bin").write_bytes(b"\0" * 64 + values.tobytes())
    g = load_model(_externalize(dense, tmp_path / "m.onnx", "w.bin", offset=64, length=128))
    assert np.array_equal(g.ops[1].bias, values)
    (tmp_path / "w2.bin").write_bytes(values.tobytes())
    g = load_model(_externalize(dense, tmp_path / "m2.onnx", "w2.bin"))  # no offset, no length: the whole file
    assert np.array_equal(g.ops[1].bias, values)


def test_total_size_is_bounded_before_reading(tmp_path, dense):
    """A tensor declaring more than the limit is refused from its shape alone (no file is read)."""
    from pnetc.ir.limits import MAX_TENSOR_DATA_BYTES

    model = onnx.load(str(dense))
    t = next(t for t in model.graph.initializer if t.name == "fc0.weight")
    t.ClearField("raw_data")
    del t.dims[:]
    t.dims.extend([MAX_TENSOR_DATA_BYTES // 4 // 96 + 1, 96])
    t.data_location = TensorProto.EXTERNAL
    entry = t.external_data.add()
    entry.key, entry.value = "location", "big.bin"
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(PnetcError, match=f"over the limit of {MAX_TENSOR_DATA_BYTES} bytes"):
        load_model(tmp_path / "m.onnx")


def test_total_size_counts_every_reference(tmp_path):
    """Seventy tensors naming the same 1 MiB file add up to 70 MiB: refused at the 64th."""
    (tmp_path / "one.bin").write_bytes(bytes(1 << 20))
    tensors = []
    for i in range(70):
        t = numpy_helper.from_array(np.zeros(1 << 18, np.float32), f"t{i}")
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "one.bin"), ("offset", "0"), ("length", str(1 << 20))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        tensors.append(t)
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
                              [numpy_helper.from_array(np.ones((2, 4), np.float32), "w"), *tensors])
    path = tmp_path / "m.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(PnetcError, match="tensor 't63'.*over the limit"):
        load_model(path)


def test_constant_node_values_follow_the_same_rules(tmp_path):
    """A Constant node's tensor attribute can also name external data."""
    (tmp_path / "secret").write_bytes(SECRET)
    w = numpy_helper.from_array(np.ones((2, 4), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../secret"), ("offset", "0"), ("length", "32")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["wc"], value=w, name="const_w"),
         helper.make_node("Gemm", ["x", "wc"], ["y"], transB=1, name="fc")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])])
    path = tmp_path / "models" / "m.onnx"
    path.parent.mkdir()
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(PnetcError, match=r"'\.\.'"):
        build_graph(path, precision="float32")


def test_onnxruntime_check_gets_the_checked_data(tmp_path, models):
    """verify's onnxruntime comparison reads the model through the same loader."""
    from pnetc.evaluate import check_onnxruntime

    ext = tmp_path / "m" / "foreign.onnx"
    ext.parent.mkdir()
    onnx.save_model(onnx.load(str(models["foreign"])), str(ext), save_as_external_data=True, size_threshold=0,
                    location="foreign.data")
    g = build_graph(ext, precision="float32")
    x = np.random.default_rng(0).standard_normal((8, 20)).astype(np.float32)
    assert check_onnxruntime(ext, g, x) < 1e-5
