"""--weight-bits 4|1: hidden layers after the first trained with a straight-through estimator,
exported exactly on their grid and declared to the compiler (pnetc/ir/passes/lowbit.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pnetc.errors import PnetcError  # noqa: E402
from pnetc.training.config import TrainConfig, resolve  # noqa: E402
from pnetc.training.models import ProjectionHead, low_bit_grid, low_bit_weight  # noqa: E402


@pytest.mark.parametrize("bits, levels", [(4, 15), (1, 2)])
def test_grid_and_straight_through_gradient(bits, levels):
    w = torch.randn(6, 40, requires_grad=True)
    q = low_bit_grid(w, bits)
    for row in q:
        assert len(torch.unique(row)) <= levels
    y = low_bit_weight(w, bits)
    assert torch.equal(y.detach(), w.detach() + (q - w.detach()))  # forward: the grid (to float rounding)
    y.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))  # backward: identity


def test_the_first_layer_stays_float():
    head = ProjectionHead(32, [16], 3, weight_bits=1)
    assert torch.equal(head.exported_weight(0), head.layers[0].weight.detach())
    assert len(torch.unique(head.exported_weight(1).abs())) <= 3  # +-alpha per row, 3 rows


@pytest.mark.parametrize("bits, lowering", [(4, "dense_s4"), (1, "dense_pm1")])
def test_trained_model_compiles_to_the_low_bit_kernels(digits, tmp_path, bits, lowering):
    from pnetc.frontend import load_model
    from pnetc.ir.interpret import Reference
    from pnetc.ir.passes import run_passes
    from pnetc.training.loop import train

    config = TrainConfig(dataset="digits", epochs=2, fc=[32, 16], weight_bits=bits)
    result = train(config, tmp_path, progress=False, dataset=digits)
    graph = run_passes(load_model(tmp_path / "model.onnx"), precision="int8")  # refuses weights off the grid
    assert [op.lowering for op in graph.dense_layers()] == ["bitsum", lowering, lowering]
    assert graph.info.training["weight_bits"] == bits
    # the compiled network is the one torch trained: same float accuracy, int8 close to it
    x = np.asarray(digits.x_test).reshape(len(digits.x_test), -1)
    float_acc = float(np.mean(Reference(graph).run(x, "float32").predictions == np.asarray(digits.y_test)))
    assert float_acc == pytest.approx(result["projection_accuracy"], abs=1e-6)
    int8_acc = float(np.mean(Reference(graph).run(x).predictions == np.asarray(digits.y_test)))
    assert abs(int8_acc - float_acc) <= 0.03


def test_int8_models_declare_nothing(trained_digits):
    import onnx

    from pnetc.training.export import read_metadata

    _, _, out = trained_digits
    assert "weight_bits" not in read_metadata(onnx.load(str(out / "model.onnx")))["pnetc.training"]


@pytest.mark.parametrize("bits, fc, message", [
    (3, [16], "--weight-bits must be one of 1, 4, 8"),
    (4, [], "a linear net .--fc 0. has none"),
])
def test_bad_options_are_refused(bits, fc, message):
    with pytest.raises(PnetcError, match=message):
        resolve(TrainConfig(dataset="digits", weight_bits=bits, fc=fc), "image", (8, 8), "digits")


def test_cli_refuses_bad_weight_bits_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pnetc", "train", "--dataset", "digits", "--weight-bits", "2",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["pnetc: error: --weight-bits must be one of 1, 4, 8, got 2"]


def test_binary_first_layer_is_what_precision_binary_compiles(digits, tmp_path):
    """--first-layer-bits 1: the layer over the bits is trained and exported as +-alpha per row, so the
    compiler's XNOR lowering (sign(W), alpha = mean|W|) takes exactly the trained weights."""
    from pnetc.frontend import load_model
    from pnetc.ir.passes import run_passes
    from pnetc.training.loop import train

    train(TrainConfig(dataset="digits", epochs=2, fc=[16], first_layer_bits=1), tmp_path, progress=False,
          dataset=digits)
    graph = run_passes(load_model(tmp_path / "model.onnx"), precision="binary")
    first = graph.dense_layers()[0]
    assert first.lowering == "xnor"
    np.testing.assert_allclose(np.abs(first.weight), np.broadcast_to(first.alpha[:, None], first.weight.shape),
                               rtol=1e-6)
    assert graph.info.training["first_layer_bits"] == 1


def test_bad_first_layer_bits_is_refused():
    with pytest.raises(PnetcError, match="--first-layer-bits must be 1 or 8, got 4"):
        resolve(TrainConfig(dataset="digits", first_layer_bits=4), "image", (8, 8), "digits")


@pytest.mark.parametrize("bits", [dict(weight_bits=4), dict(first_layer_bits=1)])
def test_a_budget_search_refuses_low_bit_options(bits, tmp_path):
    """The budget search trains and prices int8 candidates: low-bit options would be silently dropped."""
    import pnetc

    with pytest.raises(PnetcError, match="a budget search prices int8 models only; drop --"):
        pnetc.train("digits", tmp_path / "m", board="mps2-an386", max_flash="8K", **bits)
    assert not (tmp_path / "m").exists()
