"""ONNX export: format.md section 6, checker validity, onnxruntime parity with torch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from pnetc.training import export
from pnetc.training.loop import EVAL_BATCH

ort = pytest.importorskip("onnxruntime")


def _session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_projection_model_structure(trained_digits):
    prepared, result, out = trained_digits
    model = onnx.load(out / "model.onnx")
    onnx.checker.check_model(model)
    g = model.graph
    assert {(o.domain, o.version) for o in model.opset_import} == {("", 17), ("ai.pnetc", 1)}
    assert [i.name for i in g.input] == ["x"]
    assert g.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert [o.name for o in g.output] == ["logits"]
    proj = g.node[0]
    assert (proj.domain, proj.op_type, list(proj.input), list(proj.output)) == (
        "ai.pnetc", "HashProjection", ["x", "mean"], ["bits"])
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in proj.attribute}
    cfg = prepared.config
    assert attrs["num_bits"] == cfg.num_bits == attrs["T"] * attrs["d"]
    assert attrs["kind"] == cfg.kind.encode() and attrs["seed"] == prepared.spec.seed
    mean = onnx.numpy_helper.to_array(next(t for t in g.initializer if t.name == "mean"))
    assert mean.dtype == np.int16 and np.array_equal(mean, prepared.mean)
    assert [n.op_type for n in g.node[1:]] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm"]
    assert all(onnx.helper.get_attribute_value(a) == 1 for n in g.node if n.op_type == "Gemm"
               for a in n.attribute if a.name == "transB")
    meta = export.read_metadata(model)
    assert set(meta) == {"pnetc.format", "pnetc.task", "pnetc.labels", "pnetc.input", "pnetc.projection",
                         "pnetc.calibration", "pnetc.training"}
    assert meta["pnetc.format"] == 1 and meta["pnetc.task"] == "image"
    assert meta["pnetc.labels"] == [str(v) for v in prepared.dataset.labels]
    assert meta["pnetc.input"] == {"dtype": "uint8", "size": 64, "shape": [8, 8],
                                   "scale": prepared.dataset.scale, "zero_point": prepared.dataset.zero_point}
    assert meta["pnetc.projection"]["T"] == cfg.tables and meta["pnetc.projection"]["d"] == cfg.bits_per_table
    assert meta["pnetc.training"]["projection_accuracy"] == result["projection_accuracy"]
    # calibration covers exactly the activations after the projection, by their graph names
    activations = {"bits"} | {o for n in g.node[1:] for o in n.output}
    assert set(meta["pnetc.calibration"]) == activations
    for name, r in meta["pnetc.calibration"].items():
        assert r["min"] <= r["max"]
    assert meta["pnetc.calibration"]["bits"] == {"min": 0.0, "max": 1.0}
    assert meta["pnetc.calibration"]["relu0"]["min"] >= 0.0


def _torch_head_logits(head, bits):
    head.eval()
    with torch.no_grad():
        return head(bits).numpy()


def test_onnxruntime_head_matches_torch(trained_digits):
    prepared, _, out = trained_digits
    model = onnx.load(out / "model.onnx")
    head_model = export.head_model(model)
    onnx.checker.check_model(head_model)
    bits = prepared.bits_test.numpy().astype(np.float32)
    (logits,) = _session(head_model).run(["logits"], {"bits": bits})
    # rebuild the torch head from the ONNX weights' source: the trained head is in the exported file
    from pnetc.training.models import ProjectionHead

    head = ProjectionHead(prepared.config.num_bits, prepared.config.fc, prepared.num_classes)
    inits = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    prefixes = [f"fc{i}" for i in range(len(head.layers) - 1)] + ["out"]
    for layer, prefix in zip(head.layers, prefixes):
        layer.weight.data.copy_(inits[f"{prefix}.weight"])
        layer.bias.data.copy_(inits[f"{prefix}.bias"])
    want = _torch_head_logits(head, prepared.bits_test)
    np.testing.assert_allclose(logits, want, rtol=1e-5, atol=1e-5)
    acc = float((logits.argmax(1) == prepared.y_test.numpy()).mean())
    assert abs(acc - trained_digits[1]["projection_accuracy"]) < 1e-6


def test_onnxruntime_head_matches_the_trained_torch_head(digits, tmp_path):
    """Parity against the live torch module (not a re-import of the exported weights)."""
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import _finish, prepare, train  # noqa: F401
    from pnetc.training import loop

    captured = {}
    real = loop._finish

    def spy(prepared, trainer, head, *a, **k):
        captured.update(prepared=prepared, trainer=trainer, head=head)
        return real(prepared, trainer, head, *a, **k)

    loop._finish = spy
    try:
        config = TrainConfig(dataset="digits", epochs=1, fc=[24])
        train(config, tmp_path, progress=False, prepared=prepare(digits, config))
    finally:
        loop._finish = real
    p = captured["prepared"]
    bits = p.bits_test
    want = _torch_head_logits(captured["head"], bits)
    got = _session(export.head_model(onnx.load(tmp_path / "model.onnx"))).run(None, {"bits": bits.numpy()})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    trainer = captured["trainer"].eval()
    x = p.xt_test
    with torch.no_grad():
        want_t = torch.cat([trainer(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]).numpy()
    trainer_model = onnx.load(tmp_path / "trainer.onnx")
    onnx.checker.check_model(trainer_model)
    got_t = _session(trainer_model).run(["logits"], {"x": x.numpy()})[0]
    np.testing.assert_allclose(got_t, want_t, rtol=1e-5, atol=1e-5)


def test_cnn_trainer_export_matches_torch(digits, tmp_path):
    from pnetc.training.models import build_trainer

    torch.manual_seed(0)
    trainer = build_trainer("cnn", digits.x_train, digits.input_shape, 10).eval()
    x = torch.from_numpy(digits.x_test.reshape(len(digits.x_test), -1).astype(np.float32))
    export.export_trainer(trainer, x, tmp_path / "trainer.onnx")
    with torch.no_grad():
        want = trainer(x).numpy()
    got = _session(onnx.load(tmp_path / "trainer.onnx")).run(["logits"], {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_text_model_export(tmp_path):
    """A text model: `text` string input, TextProjection node, checker-valid, head runs in ORT."""
    from types import SimpleNamespace

    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import prepare, train

    texts = {"en": [b"the cat sat on the mat", b"a dog and a cat", b"hello world again", b"the end of it"],
             "de": [b"der Hund und die Katze", b"hallo Welt", "gro\u00dfe Stra\u00dfe".encode(), b"das ist gut"]}
    x = [t for lang in texts for t in texts[lang]]
    y = np.array([i for i, lang in enumerate(texts) for _ in texts[lang]], dtype=np.int64)
    ds = SimpleNamespace(name="tiny-text", task="text", labels=list(texts), x_train=x, y_train=y, x_test=x,
                         y_test=y, input_shape=(), scale=1.0, zero_point=0)
    # simhash: the format 1 export, attribute for attribute (presence: test_text_options.py)
    config = TrainConfig(dataset="tiny-text", trainer="lstm", epochs=2, tables=8, bits_per_table=8, fc=[8],
                         text_projection="simhash", text_char_max_n=3)
    prepared = prepare(ds, config)
    result = train(config, tmp_path, progress=False, prepared=prepared)
    model = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["text"]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.STRING
    node = model.graph.node[0]
    assert (node.domain, node.op_type) == ("ai.pnetc", "TextProjection")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs == {"seed": 0, "num_bits": 64, "char_max_n": 3, "words": 1, "T": 8, "d": 8}
    assert export.read_metadata(model)["pnetc.input"] == {"dtype": "bytes"}
    assert export.read_metadata(model)["pnetc.format"] == 1 and model.producer_version == "1"
    assert not any(t.name == "mean" for t in model.graph.initializer)
    logits = _session(export.head_model(model)).run(None, {"bits": prepared.bits_test.numpy()})[0]
    assert float((logits.argmax(1) == y).mean()) == pytest.approx(result["projection_accuracy"], abs=1e-6)
    lstm = onnx.load(tmp_path / "trainer.onnx")
    onnx.checker.check_model(lstm)
    ids, lengths = prepared.xt_test
    got = _session(lstm).run(["logits"], {"ids": ids[:, :32].numpy(), "lengths": lengths.clamp(max=32).numpy()})[0]
    assert got.shape == (len(x), 2)


@pytest.mark.parametrize("kind", ["lstm", "cnn", "mlp"])
def test_text_trainer_export_matches_torch(tmp_path, kind):
    """Every text trainer (LSTM, CNN over bytes, hashed byte n-gram MLP) exports to an ONNX
    graph that computes the torch logits, padding and texts shorter than an n-gram included."""
    from pnetc.training.data import encode_bytes
    from pnetc.training.models import build_trainer

    torch.manual_seed(0)
    trainer = build_trainer(kind, None, (), 3).eval()
    ids, lengths = encode_bytes([b"hello there", b"", "Stra\u00dfe und Welt, nicht wahr?".encode(), b"x" * 40])
    ids = ids[:, : int(lengths.max())]
    export.export_trainer(trainer, (ids, lengths), tmp_path / "trainer.onnx")
    with torch.no_grad():
        want = trainer((ids, lengths)).numpy()
    got = _session(onnx.load(tmp_path / "trainer.onnx")).run(["logits"], {"ids": ids.numpy(), "lengths": lengths.numpy()})[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
