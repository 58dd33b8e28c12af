"""Model loader robustness: mutated ONNX files through `pnetc compile`.

Every bad model must end in exactly one `pnetc: error: ...` line and exit 2, never a traceback,
within a time bound, and must leave an existing output directory untouched (no half-written
output, no temporary directories). Random damage (truncation, bit flips, overwritten bytes) may
also produce a model that still compiles: then the output must be complete and stderr empty.
Most cases run in-process (pnetc.cli.main) for speed; a few run the real `python -m pnetc`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from tests.harden.conftest import assert_one_line_error, assert_untouched, fresh_out, python, run_cli

CASE_SECONDS = 20.0


# ---- semantic mutations ----------------------------------------------------------------------


def _init(m, name):
    return next(t for t in m.graph.initializer if t.name == name)


def _set_init(m, name, arr):
    t = _init(m, name)
    t.CopyFrom(numpy_helper.from_array(arr, name))


def _weights(m, name, fn):
    _set_init(m, name, fn(numpy_helper.to_array(_init(m, name)).copy()))


def _meta(m, key, value: str):
    for p in m.metadata_props:
        if p.key == key:
            p.value = value
            return
    e = m.metadata_props.add()
    e.key, e.value = key, value


def _attr(m, node_index, name, value):
    node = m.graph.node[node_index]
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def _nan(a):
    a.flat[0] = np.nan
    return a


def _inf(a):
    a.flat[-1] = -np.inf
    return a


def _fold_bomb(m, n=30000):
    """Two small initializers whose constant MatMul would be n x n (3.4 GB of float32 for n = 30000)."""
    m.graph.initializer.extend([numpy_helper.from_array(np.ones((n, 1), np.float32), "bomb_a"),
                                numpy_helper.from_array(np.ones((1, n), np.float32), "bomb_b")])
    m.graph.node.insert(0, helper.make_node("MatMul", ["bomb_a", "bomb_b"], ["bomb"], name="bomb"))


def _projection_only_huge(m):
    """Projection straight to the output, num_bits = 2^30, no labels: one class per bit."""
    del m.graph.node[1:]
    _attr(m, 0, "num_bits", 2**30)
    m.graph.ClearField("output")
    m.graph.output.append(helper.make_tensor_value_info("bits", TensorProto.FLOAT, ["batch", 2**30]))
    keep = [p for p in m.metadata_props if p.key != "pnetc.labels"]
    m.ClearField("metadata_props")
    m.metadata_props.extend(keep)


def _untyped_attribute(m):
    next(a for a in m.graph.node[0].attribute if a.name == "T").type = 0  # AttributeProto.UNDEFINED


def _newline_name(m):
    m.graph.node[1].name = "Gemm\n_0"
    m.graph.node[1].op_type = "Conv"


# (model, mutation, words the one error line must contain)
MUTATIONS = {
    "nan_weight": ("dense", lambda m: _weights(m, "fc0.weight", _nan), ["fc0.weight", "NaN or infinite"]),
    "inf_bias": ("text", lambda m: _weights(m, "fc1.bias", _inf), ["fc1.bias", "NaN or infinite"]),
    "nan_foreign": ("foreign", lambda m: _weights(m, "2.running_var", _nan), ["2.running_var", "NaN"]),
    "nan_gemm_alpha": ("dense", lambda m: _attr(m, 1, "alpha", float("nan")), ["Gemm_0", "NaN or infinite"]),
    "missing_weight": ("dense", lambda m: m.graph.initializer.remove(_init(m, "fc0.weight")),
                       ["fc0.weight", "missing initializer"]),
    "missing_mean": ("ternary", lambda m: m.graph.initializer.remove(_init(m, "mean")), ["'mean'", "missing initializer"]),
    "cycle": ("dense", lambda m: m.graph.node[1].input.__setitem__(0, m.graph.node[-1].output[0]), ["cycle"]),
    "self_loop": ("text", lambda m: m.graph.node[2].input.__setitem__(0, m.graph.node[2].output[0]), ["cycle"]),
    "opset_99": ("dense", lambda m: setattr(m.opset_import[0], "version", 99), ["opset 99", "13-21"]),
    "opset_7": ("foreign", lambda m: setattr(m.opset_import[0], "version", 7), ["opset 7", "opset_version=17"]),
    "pnetc_opset_5": ("text", lambda m: setattr(m.opset_import[1], "version", 5), ["ai.pnetc opset version 5"]),
    "unknown_op": ("dense", lambda m: setattr(m.graph.node[2], "op_type", "ConvTranspose"),
                   ["ConvTranspose", "supported"]),
    "conv_missing_weights": ("dense", lambda m: setattr(m.graph.node[2], "op_type", "Conv"), ["Conv", "inputs"]),
    "unknown_domain": ("dense", lambda m: setattr(m.graph.node[0], "domain", "com.other"), ["com.other"]),
    "weight_wrong_shape": ("dense", lambda m: _weights(m, "fc0.weight", lambda a: a[:, :-3].copy()),
                           ["Gemm_0", "93 inputs", "96 features"]),
    "bias_wrong_shape": ("ternary", lambda m: _weights(m, "fc1.bias", lambda a: a[:-1].copy()), ["Gemm_1", "bias"]),
    "weight_3d": ("dense", lambda m: _weights(m, "fc1.weight", lambda a: a[None].copy()), ["2-D"]),
    "mean_wrong_shape": ("dense", lambda m: _weights(m, "mean", lambda a: a[:10].copy()), ["mean", "shape [64]"]),
    "mean_float": ("dense", lambda m: _weights(m, "mean", lambda a: a.astype(np.float32)), ["mean must be int16"]),
    "mean_out_of_range": ("dense", lambda m: _weights(m, "mean", lambda a: a * 0 + 32767), ["mean", "[0, 255]"]),
    "weight_strings": ("dense", lambda m: _set_init(m, "fc1.weight", np.array([["a"] * 32] * 10, dtype=object)),
                       ["fc1.weight", "numeric"]),
    "huge_dims_no_data": ("dense", lambda m: (_init(m, "fc0.weight").dims.__delitem__(slice(None)),
                                              _init(m, "fc0.weight").dims.extend([2**31, 2**31])),
                          ["fc0.weight", "cannot be read"]),
    "huge_input_dim": ("dense", lambda m: setattr(m.graph.input[0].type.tensor_type.shape.dim[1], "dim_value", 10**12),
                       ["features=1000000000000", "1..65536"]),
    "huge_num_bits": ("dense", lambda m: _attr(m, 0, "num_bits", 2**31), ["2147483648"]),
    "zero_num_bits": ("dense", lambda m: _attr(m, 0, "num_bits", 0), ["num_bits=0"]),
    "negative_seed": ("text", lambda m: _attr(m, 0, "seed", -1), ["seed=-1"]),
    "char_max_n_9": ("text", lambda m: _attr(m, 0, "char_max_n", 9), ["char_max_n=9"]),
    "kind_int": ("dense", lambda m: _attr(m, 0, "kind", 3), ["kind must be"]),
    "input_float": ("dense", lambda m: setattr(m.graph.input[0].type.tensor_type, "elem_type", TensorProto.FLOAT),
                    ["uint8 or int8"]),
    "input_no_shape": ("dense", lambda m: m.graph.input[0].type.tensor_type.ClearField("shape"), ["shape"]),
    "input_dim_zero": ("dense", lambda m: setattr(m.graph.input[0].type.tensor_type.shape.dim[1], "dim_value", 0),
                       ["fixed feature sizes"]),
    "no_output": ("dense", lambda m: m.graph.ClearField("output"), ["exactly one output"]),
    "two_outputs": ("dense", lambda m: m.graph.output.append(
        helper.make_tensor_value_info("fc0", TensorProto.FLOAT, ["batch", 32])), ["2 outputs", "--output NAME"]),
    "no_input": ("dense", lambda m: m.graph.ClearField("input"), ["exactly one non-constant input"]),
    "no_nodes": ("dense", lambda m: m.graph.ClearField("node"), ["no nodes"]),
    "produced_twice": ("dense", lambda m: m.graph.node[2].output.__setitem__(0, m.graph.node[1].output[0]),
                       ["produced twice"]),
    "labels_int": ("dense", lambda m: _meta(m, "pnetc.labels", "7"), ["pnetc.labels", "list of class names"]),
    "labels_nested": ("dense", lambda m: _meta(m, "pnetc.labels", json.dumps([[1]] * 10)), ["pnetc.labels"]),
    "labels_dict": ("text", lambda m: _meta(m, "pnetc.labels", '{"en": 0}'), ["pnetc.labels"]),
    "labels_count": ("dense", lambda m: _meta(m, "pnetc.labels", '["a", "b"]'), ["2 labels", "10 classes"]),
    "labels_not_json": ("dense", lambda m: _meta(m, "pnetc.labels", "[not json"), ["not valid JSON"]),
    "input_meta_string": ("dense", lambda m: _meta(m, "pnetc.input", '"uint8"'), ["pnetc.input", "JSON object"]),
    "calibration_list": ("dense", lambda m: _meta(m, "pnetc.calibration", "[1, 2]"), ["pnetc.calibration"]),
    "calibration_nan": ("text", lambda m: _meta(m, "pnetc.calibration", '{"fc0": {"min": NaN, "max": 1}}'),
                        ["fc0", "finite"]),
    "calibration_strings": ("dense", lambda m: _meta(m, "pnetc.calibration", '{"fc0": {"min": "a", "max": null}}'),
                            ["fc0", "finite"]),
    "projection_string": ("dense", lambda m: _meta(m, "pnetc.projection", '"hash"'), ["pnetc.projection"]),
    "format_3": ("dense", lambda m: _meta(m, "pnetc.format", "3"), ["format 3"]),  # 1 and 2 are known
    "format_string": ("text", lambda m: _meta(m, "pnetc.format", '"one"'), ["format"]),
    "projection_only_huge_bits": ("dense", _projection_only_huge, ["num_bits=1073741824"]),
    "attribute_without_type": ("text", _untyped_attribute, ["attribute 'T' has no value of a known type"]),
    "newline_in_node_name": ("dense", _newline_name, ["'Gemm\\n_0'", "Conv"]),
    "constant_fold_bomb": ("foreign", _fold_bomb, ["bomb", "900,000,000 elements"]),
    "metadata_not_utf8": ("dense", lambda m: None, ["value field is not valid UTF-8"]),  # bytes patched below
}


def _mutated(ref_models, tmp_path, name) -> Path:
    base, fn, _ = MUTATIONS[name]
    model = onnx.load(str(ref_models[base]))
    fn(model)
    path = tmp_path / f"{name}.onnx"
    if name == "metadata_not_utf8":  # protobuf refuses to serialise it: patch the bytes instead
        model2 = onnx.load(str(ref_models[base]))
        _meta(model2, "pnetc.projection", '{"T": 12XX}')
        data = model2.SerializeToString().replace(b'12XX}', b'12\xc3\x28}')  # same length
        path.write_bytes(data)
        return path
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_semantic_mutation_is_one_line_error(ref_models, tmp_path, name):
    path = _mutated(ref_models, tmp_path, name)
    out = fresh_out(tmp_path)
    res = run_cli(["compile", str(path), "-o", str(out)], CASE_SECONDS)
    assert_one_line_error(res, *MUTATIONS[name][2])
    assert_untouched(out)


# ---- random damage (hypothesis) --------------------------------------------------------------

_BASES = ["dense", "ternary", "text", "foreign"]
_RANDOM = settings(max_examples=25, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _check_outcome(tmp_path, data: bytes, extra=()) -> None:
    path = tmp_path / "damaged.onnx"
    path.write_bytes(data)
    out = fresh_out(tmp_path)
    args = ["compile", str(path), "-o", str(out), *extra]
    res = run_cli(args, CASE_SECONDS)
    if res.code == 0:  # the damage left a model that still compiles: the output must be whole
        assert res.stderr.strip() == "", res.stderr
        assert (out / "model.h").is_file() and (out / "model.c").is_file() and (out / "model_weights.c").is_file()
        assert not (out / "keep.txt").exists()
    else:
        assert_one_line_error(res)
        assert_untouched(out)


def _calib_args(base):
    """The foreign MLP has no calibration metadata: compile it as float32 so damage that leaves
    a valid model reaches the success path too."""
    return ("--precision", "float32") if base == "foreign" else ()


@_RANDOM
@given(base=st.sampled_from(_BASES), frac=st.floats(0.0, 1.0, exclude_max=True))
def test_truncated_model(ref_models, tmp_path, base, frac):
    data = ref_models[base].read_bytes()
    _check_outcome(tmp_path, data[: int(frac * len(data))], _calib_args(base))


@_RANDOM
@given(base=st.sampled_from(_BASES), flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                               st.integers(0, 7)), min_size=1, max_size=8))
def test_bit_flips(ref_models, tmp_path, base, flips):
    data = bytearray(ref_models[base].read_bytes())
    for pos, bit in flips:
        data[int(pos * len(data))] ^= 1 << bit
    _check_outcome(tmp_path, bytes(data), _calib_args(base))


@_RANDOM
@given(base=st.sampled_from(_BASES), pos=st.floats(0, 1, exclude_max=True), junk=st.binary(min_size=1, max_size=64))
def test_overwritten_bytes(ref_models, tmp_path, base, pos, junk):
    data = bytearray(ref_models[base].read_bytes())
    i = int(pos * len(data))
    data[i:i + len(junk)] = junk
    _check_outcome(tmp_path, bytes(data), _calib_args(base))


@pytest.mark.parametrize("content", [b"", b"hello, not onnx\n", bytes(range(256)) * 4], ids=["empty", "text", "binary"])
def test_not_an_onnx_file(tmp_path, content):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    out = fresh_out(tmp_path)
    assert_one_line_error(run_cli(["compile", str(path), "-o", str(out)]), str(path))
    assert_untouched(out)


def test_directory_instead_of_model(tmp_path):
    out = fresh_out(tmp_path)
    assert_one_line_error(run_cli(["compile", str(tmp_path), "-o", str(out)]), "is a directory")


def test_failed_compile_into_new_directory_creates_nothing(ref_models, tmp_path):
    path = _mutated(ref_models, tmp_path, "nan_weight")
    out = tmp_path / "new" / "out"
    assert_one_line_error(run_cli(["compile", str(path), "-o", str(out)]))
    assert not out.exists()
    assert not (tmp_path / "new").exists() or list((tmp_path / "new").iterdir()) == []


# ---- real processes -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cycle", "nan_weight", "labels_nested", "metadata_not_utf8"])
def test_subprocess_error_is_one_line(ref_models, tmp_path, name):
    path = _mutated(ref_models, tmp_path, name)
    out = fresh_out(tmp_path)
    proc = subprocess.run([python(), "-m", "pnetc", "compile", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pnetc: error: "), proc.stderr
    assert_untouched(out)


def test_subprocess_truncated(ref_models, tmp_path):
    data = ref_models["text"].read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 3])
    proc = subprocess.run([python(), "-m", "pnetc", "compile", str(path), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("pnetc: error: ") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


# ---- hostile --calib files ----------------------------------------------------------------------


@pytest.mark.parametrize("name, make, needle", [
    ("nan", lambda: {"x": np.full((10, 20), np.nan, np.float32)}, "NaN or infinite"),
    ("empty", lambda: {"x": np.zeros((0, 20), np.float32)}, "no samples"),
    ("shape", lambda: {"x": np.zeros((10, 7), np.float32)}, "20 input values per sample, got 7"),
    ("two_arrays", lambda: {"a": np.zeros(3), "b": np.zeros(3)}, "array named 'x'"),
])
def test_bad_calibration_file(ref_models, tmp_path, name, make, needle):
    calib = tmp_path / f"{name}.npz"
    np.savez(calib, **make())
    out = fresh_out(tmp_path)
    res = run_cli(["compile", str(ref_models["foreign"]), "-o", str(out), "--calib", str(calib)])
    assert_one_line_error(res, needle)
    assert_untouched(out)


def test_calibration_file_not_npz(ref_models, tmp_path):
    calib = tmp_path / "bad.npz"
    calib.write_bytes(b"PK\x03\x04garbage")
    assert_one_line_error(run_cli(["compile", str(ref_models["foreign"]), "-o", str(tmp_path / "o"), "--calib",
                                   str(calib)]), "cannot read calibration file")


@pytest.mark.parametrize("old, new", [(b"Gemm_0", b"Gemm\xc3\x28"), (b"pnetc.labels", b"pnetc.l\xffbels"),
                                      (b"projection", b"projectio\x80")], ids=["node_name", "metadata_key", "name"])
def test_strings_not_utf8(ref_models, tmp_path, old, new):
    """protobuf returns damaged (non-UTF-8) strings as bytes; each is one clear error."""
    data = ref_models["dense"].read_bytes()
    assert old in data and len(old) == len(new)
    path = tmp_path / "damaged.onnx"
    path.write_bytes(data.replace(old, new))
    out = fresh_out(tmp_path)
    assert_one_line_error(run_cli(["compile", str(path), "-o", str(out)]), "not valid UTF-8")
    assert_untouched(out)
