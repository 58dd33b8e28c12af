"""--stem: a learned stem before the projection, trained with a straight-through sign, compiled
bit-exact (pnetc/training/stem.py)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pnetc import hashing  # noqa: E402
from pnetc.errors import PnetcError  # noqa: E402
from pnetc.training.data import projection_spec  # noqa: E402
from pnetc.training.models import ProjectionHead  # noqa: E402
from pnetc.training.stem import SignSTE, build_stem_net  # noqa: E402
from pnetc.training.stemspec import StemSpec, parse_stem  # noqa: E402


@pytest.mark.parametrize("text, spec", [("dense:64", StemSpec("dense", (64,))), ("conv:8,16", StemSpec("conv", (8, 16)))])
def test_parse(text, spec):
    assert parse_stem(text) == spec and str(spec) == text


@pytest.mark.parametrize("text", ["dense", "dense:0", "dense:8,8", "conv:", "conv:4,4,4,4", "pool:3", "conv:x"])
def test_parse_refuses(text):
    with pytest.raises(PnetcError, match="--stem must be"):
        parse_stem(text)


def test_sign_has_a_hardtanh_straight_through_gradient():
    acc = torch.tensor([[-3.0, -0.5, 0.0, 0.5, 3.0]], requires_grad=True)
    spread = torch.ones(1, 5)
    bits = SignSTE.apply(acc, spread)
    assert bits.tolist() == [[0.0, 0.0, 0.0, 1.0, 1.0]]  # a tie gives 0, as the C
    bits.sum().backward()
    assert acc.grad.tolist() == [[0.0, 0.5, 0.5, 0.5, 0.0]]  # d/dacc of (clamp(acc/spread) + 1) / 2


def _net(spec: str, shape=(8, 8), bits=64):
    stem = parse_stem(spec)
    head = ProjectionHead(bits, [], 3)
    proj = projection_spec(bits, "binary", 7, stem.output_size(shape), None)
    return build_stem_net(stem, shape, int(np.prod(shape)), 1 / 16, proj, head)


@pytest.mark.parametrize("spec", ["dense:12", "conv:3,4"])
def test_the_stem_trains_through_the_sign(spec):
    torch.manual_seed(0)
    net = _net(spec)
    x = torch.randint(0, 17, (32, 64)).float()
    net(x).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.stem.parameters())


@pytest.mark.parametrize("spec", ["dense:12", "conv:3,4"])
def test_frozen_forward_is_the_exact_int8_projection(spec):
    torch.manual_seed(1)
    net = _net(spec).eval()
    x = torch.randint(0, 17, (40, 64)).float()
    net.freeze(x)
    assert net.frozen and -128 <= int(net.out_zero_point) <= 127
    record = {}
    net(x, record)
    levels = net.quantized(net.stem(x)).detach().numpy()
    assert np.array_equal(levels, np.round(levels)) and levels.min() >= -128 and levels.max() <= 127
    mean = net.mean_q.numpy()
    assert np.array_equal(mean, np.floor(levels.mean(0) + 0.5))  # the rounded training mean of the levels
    want = hashing.project_dense(levels.astype(np.int64) - mean, net.proj) > 0
    assert np.array_equal(record["bits"].detach().numpy().astype(bool), want)


def test_text_data_take_no_stem():
    from pnetc.training.config import TrainConfig, resolve

    with pytest.raises(PnetcError, match="--stem is for dense inputs"):
        resolve(TrainConfig(dataset="langid", stem="dense:8"), "text", (), "langid")


def test_conv_stem_needs_images():
    from pnetc.training.config import TrainConfig, resolve

    with pytest.raises(PnetcError, match="grayscale images"):
        resolve(TrainConfig(dataset="x", stem="conv:4"), "features", (30,), "x", classes=2, samples=100)


@pytest.mark.parametrize("stem", ["dense:16", "conv:4,8"])
def test_trained_stem_model_runs_bit_exact_on_the_host(digits, tmp_path, stem):
    """Train (short), export, compile to C and run on the host: 0 mismatches, and the device's
    accuracy is what torch measured for the exported (frozen) net."""
    from pnetc import api
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import train

    config = TrainConfig(dataset="digits", stem=stem, tables=8, bits_per_table=8, fc=[], epochs=3, trainer="none")
    result = train(config, tmp_path, progress=False, dataset=digits)
    report = api.run(tmp_path / "model.onnx", board="host", dataset="digits")
    assert report.mismatches == 0 and report.samples == len(digits.y_test)
    assert report.accuracy_device == pytest.approx(result["projection_accuracy"], abs=0.02)
    assert report.accuracy_device > 0.4  # chance is 0.1


def test_verify_compares_the_head_with_onnxruntime(tmp_path):
    """verify cuts the stem and the projection off for onnxruntime (it cannot run ai.pnetc ops) and
    feeds it the bits: the head's float scores agree; the three C builds match the interpreter."""
    from pnetc import api
    from tests.compiler import model_factory as mf

    model = mf.make_stem_model(tmp_path / "stem.onnx")
    x = np.random.default_rng(5).integers(0, 256, (40, 16)).astype(np.float32)  # levels, as a stem model reads
    np.savez(tmp_path / "data.npz", x=x, y=np.arange(40) % 3)
    result = api.verify(model, data=tmp_path / "data.npz", progress=False)
    assert result.mismatches == 0 and result.onnxruntime_max_rel_diff < 1e-5
    # float32: the C quantizes the float stem output itself (pnet_quantize_f32), bit for bit as the twin
    result = api.verify(model, data=tmp_path / "data.npz", precision="float32", progress=False)
    assert result.mismatches == 0 and result.num_bits == 64


def test_float_features_take_no_stem(tmp_path):
    """A data set of float features is quantized per feature for the projection; a stem would read
    the levels as values, which the compiled model does not: refused before training."""
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import train

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "f.npz", x=rng.normal(size=(60, 5)).astype(np.float32), y=np.arange(60) % 2)
    with pytest.raises(PnetcError, match="float features"):
        train(TrainConfig(dataset=str(tmp_path / "f.npz"), stem="dense:4", epochs=1), tmp_path / "o", progress=False)


def test_a_stem_model_refuses_data_that_are_not_its_levels(digits, tmp_path):
    """A stem model's input is float32 but holds the levels 0..255 it was trained on: float features
    (0..1, or any non-level) would be read as levels and answered wrongly, so they are refused as for a
    model without a stem; the levels themselves, as integers or as floats, are read."""
    from pnetc import api
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import train

    config = TrainConfig(dataset="digits", stem="dense:8", tables=4, bits_per_table=8, fc=[], epochs=1, trainer="none")
    train(config, tmp_path, progress=False, dataset=digits)
    model = tmp_path / "model.onnx"
    levels = np.asarray(digits.x_test[:5])
    np.save(tmp_path / "levels.npy", levels)
    np.save(tmp_path / "level_floats.npy", levels.astype(np.float32))
    np.save(tmp_path / "features.npy", levels.astype(np.float32) / 16)
    x_features = np.asarray(digits.x_test[:60], np.float32) / 16 + 0.01
    np.savez(tmp_path / "features.npz", x=x_features, y=np.asarray(digits.y_test[:60]))
    want = api.predict(model, data=tmp_path / "levels.npy").predicted_labels
    assert api.predict(model, data=tmp_path / "level_floats.npy").predicted_labels == want
    with pytest.raises(PnetcError, match="levels 0..255"):
        api.predict(model, data=tmp_path / "features.npy")
    with pytest.raises(PnetcError, match="levels 0..255"):
        api.eval(model, data=tmp_path / "features.npz")


@pytest.mark.parametrize("weight_bits", [4, 1])
def test_low_bit_hidden_layers_after_a_stem_compile(digits, tmp_path, weight_bits):
    """--weight-bits puts the head's layers after the first on a low-bit grid; the stem before the
    projection stays int8 and the compiler leaves it so (it refused the model as off the grid)."""
    from pnetc import api
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import train

    config = TrainConfig(dataset="digits", stem="dense:8", tables=4, bits_per_table=8, fc=[8], epochs=1,
                         trainer="none", weight_bits=weight_bits)
    train(config, tmp_path, progress=False, dataset=digits)
    compiled = api.compile(tmp_path / "model.onnx", tmp_path / "c", precision="int8")
    lowerings = [getattr(op, "lowering", None) for op in compiled.compiled.graph.ops]
    assert {"dense_s4", "dense_pm1"}.intersection(lowerings) == {"dense_s4" if weight_bits == 4 else "dense_pm1"}
    report = api.run(tmp_path / "model.onnx", board="host", dataset="digits", limit=40)
    assert report.mismatches == 0
