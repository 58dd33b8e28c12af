"""Projection nets with a stem from outside pnetc: what the compiler refuses, in one
`pnetc: error:` line with exit 2 (docs/format.md, "HashProjection after a stem")."""

from __future__ import annotations

import onnx
import pytest
from onnx import helper

from tests.compiler import model_factory as mf
from tests.harden.conftest import assert_one_line_error, run_cli


def _compile(model, tmp_path):
    return run_cli(["compile", str(model), "--out", str(tmp_path / "out")])


def test_a_well_formed_stem_model_compiles(tmp_path):
    assert _compile(mf.make_stem_model(tmp_path / "m.onnx"), tmp_path).code == 0


def test_a_projection_after_an_op_without_a_fixable_grid(tmp_path):
    model = mf.make_stem_model(tmp_path / "m.onnx", stem_act="Sigmoid")
    assert_one_line_error(_compile(model, tmp_path), "projection", "sigmoid", "stem must end")


def test_a_float_stem_without_calibration(tmp_path):
    model = mf.make_stem_model(tmp_path / "m.onnx", calibration=False)
    assert_one_line_error(_compile(model, tmp_path), "activation ranges", "--calib")


def test_a_float_projection_input_without_its_int8_grid(tmp_path):
    model = mf.make_stem_model(tmp_path / "m.onnx", grid=False)
    assert_one_line_error(_compile(model, tmp_path), "x_scale and x_zero_point")


@pytest.mark.parametrize("scale, zero_point, needle", [(0.0, -128, "x_scale"), (float("inf"), 0, "x_scale"),
                                                        (0.5, 200, "x_zero_point")])
def test_a_bad_grid(tmp_path, scale, zero_point, needle):
    path = mf.make_stem_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    proj = next(n for n in model.graph.node if n.op_type == "HashProjection")
    for a in list(proj.attribute):
        if a.name in ("x_scale", "x_zero_point"):
            proj.attribute.remove(a)
    proj.attribute.extend([helper.make_attribute("x_scale", scale), helper.make_attribute("x_zero_point", zero_point)])
    onnx.save(model, str(path))
    assert_one_line_error(_compile(path, tmp_path), needle)


def test_a_grid_on_an_integer_input(tmp_path):
    path = mf.make_dense_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    proj = next(n for n in model.graph.node if n.op_type == "HashProjection")
    proj.attribute.extend([helper.make_attribute("x_scale", 0.5), helper.make_attribute("x_zero_point", 0)])
    onnx.save(model, str(path))
    assert_one_line_error(_compile(path, tmp_path), "apply to a float input")


def test_a_second_projection(tmp_path):
    path = mf.make_stem_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    proj = next(n for n in model.graph.node if n.op_type == "HashProjection")
    # a projection of the first projection's float-cast bits: not a stem
    second = helper.make_node("HashProjection", ["bits", "mean"], ["bits2"], domain="ai.pnetc", name="again",
                              **{a.name: helper.get_attribute_value(a) for a in proj.attribute})
    head = next(n for n in model.graph.node if n.op_type == "Gemm" and n.input[0] == "bits")
    head.input[0] = "bits2"
    model.graph.node.insert(list(model.graph.node).index(proj) + 1, second)
    onnx.save(model, str(path))
    assert_one_line_error(_compile(path, tmp_path), "must be uint8 or int8")
