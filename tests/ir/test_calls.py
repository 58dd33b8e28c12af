"""The lowered kernel-call list (pnetc/ir/calls.py): one list that both the golden interpreter
and the C code generator iterate over."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from pnetc import kernels
from pnetc.codegen.context import build_context
from pnetc.codegen.signatures import signatures
from pnetc.compiler import build_graph
from pnetc.errors import PnetcError
from pnetc.ir.calls import lower_calls
from pnetc.ir.interpret import Reference
from tests.compiler import model_factory as mf


@pytest.fixture(scope="module")
def dense_model(tmp_path_factory):
    return mf.make_dense_model(tmp_path_factory.mktemp("calls") / "dense.onnx", hidden=(12,), num_bits=40)


@pytest.mark.parametrize("precision, projection, kernels_wanted", [
    ("int8", "hash", ["center_u8", "project_binary", "bitsum_s32", "requantize_s8", "dense_s8"]),
    ("binary", "table", ["center_u8", "project_binary_table", "xnor_popcount", "requantize_s8", "dense_s8"]),
    ("float32", "hash", ["center_u8", "project_binary", "bitsum_f32", "relu_f32", "dense_f32"]),
])
def test_the_lowering_picks_one_kernel_list(dense_model, precision, projection, kernels_wanted):
    graph = build_graph(dense_model, precision=precision, projection=projection)
    assert [c.kernel for c in graph.program.calls] == kernels_wanted
    assert [c.stage for c in graph.program.calls] == [0, 0, 1, 1, 2]


@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_interpreter_and_codegen_iterate_the_same_calls(dense_model, monkeypatch, precision):
    graph = build_graph(dense_model, precision=precision)
    ran = []
    for name, twin in list(kernels.TWINS.items()):
        def record(*args, _name=name, _twin=twin, **kw):
            ran.append(_name)
            return _twin(*args, **kw)
        monkeypatch.setitem(kernels.TWINS, name, record)
    Reference(graph).run(mf.dense_samples(3, 64, 5))
    ctx = build_context(graph, name="m", options={})
    listed = [c.kernel for c in graph.program.calls]
    assert ran == listed
    assert [c.kernel for c in ctx["calls"]] == listed
    assert [c.stage for c in ctx["calls"]] == [c.stage for c in graph.program.calls]


def test_the_float_program_of_an_int8_graph_is_lowered_on_demand(dense_model):
    graph = build_graph(dense_model, precision="int8")
    ref = Reference(graph)
    assert ref.program() is graph.program
    assert [c.kernel for c in ref.program("float32").calls][2:] == ["bitsum_f32", "relu_f32", "dense_f32"]
    with pytest.raises(PnetcError, match="quantized for int8, not binary"):
        lower_calls(graph, "binary")


def test_a_kernel_missing_from_the_twin_table_is_a_clear_error(dense_model, monkeypatch):
    graph = build_graph(dense_model, precision="int8")
    monkeypatch.delitem(kernels.TWINS, "dense_s8")
    with pytest.raises(PnetcError, match="kernel 'dense_s8' has no numpy twin"):
        Reference(graph).run(mf.dense_samples(2, 64, 5))


def test_a_kernel_missing_from_the_header_is_a_clear_error(dense_model):
    graph = build_graph(dense_model, precision="int8")
    graph.program.calls[-1].kernel = "dense_s2"
    with pytest.raises(PnetcError, match="'pnet_dense_s2' is not declared in pnet/pnet.h"):
        build_context(graph, name="m", options={})


def test_operands_must_match_the_c_parameters(dense_model):
    graph = build_graph(dense_model, precision="int8")
    call = graph.program.calls[-1]
    call.params["zero_point"] = 3
    with pytest.raises(PnetcError, match="operands the kernel does not take: zero_point"):
        build_context(graph, name="m", options={})
    del call.params["zero_point"]
    del call.params["in_offset"]
    with pytest.raises(PnetcError, match="gives no operand for its parameter 'in_offset'"):
        build_context(graph, name="m", options={})


@pytest.mark.parametrize("kernel", sorted(kernels.TWINS))
def test_every_twin_takes_the_c_kernels_parameter_names(kernel):
    """Calls name operands once, for both sides: each twin parameter is a C parameter of that kernel."""
    c_params = {p.name for p in signatures()[kernel].params}
    twin_params = {name for name, p in inspect.signature(kernels.TWINS[kernel]).parameters.items()
                   if p.kind is not p.VAR_KEYWORD}
    assert twin_params <= c_params, twin_params - c_params


def test_the_c_argument_order_comes_from_the_header(dense_model):
    graph = build_graph(dense_model, precision="int8")
    ctx = build_context(graph, name="m", options={})
    dense = ctx["calls"][-1]
    names = [p.name for p in signatures()["dense_s8"].params]
    assert len(dense.args) == len(names)
    assert dense.args[names.index("in_offset")].value == graph.program.calls[-1].params["in_offset"]
    assert dense.args[names.index("w")].kind == "weight" and dense.args[names.index("w")].value == "l1_w"


def test_text_projection_passes_its_status_on(tmp_path):
    graph = build_graph(mf.make_text_model(tmp_path / "t.onnx"), precision="int8")
    ctx = build_context(graph, name="m", options={})
    first = ctx["calls"][0]
    assert first.kernel == "text_project" and first.returns_status
    assert [a.value for a in first.args[:2]] == [None, "len"]  # the input pointer, then the length in scope
    texts = mf.text_samples(4)[0]
    np.testing.assert_array_equal(Reference(graph).bits(texts),
                                  np.stack([kernels.text_project(t, graph.projection.seed, graph.num_bits)
                                            for t in texts]))
