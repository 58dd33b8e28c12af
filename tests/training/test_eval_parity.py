"""`pnetc eval`'s numpy reference predicts exactly what the trained torch model predicts (issue: 100 %)."""

from __future__ import annotations

import numpy as np
import torch

from pnetc.compiler import build_graph
from pnetc.ir.interpret import Reference
from pnetc.training.loop import predict
from pnetc.training.models import ProjectionHead
from pnetc.evaluate import evaluate_model


def test_numpy_reference_predictions_equal_torch_on_the_whole_test_split(trained_digits, digits):
    prepared, result, out = trained_digits
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    head = ProjectionHead(prepared.bits_test.shape[1], list(prepared.config.fc), prepared.num_classes)
    head.load_state_dict(state["head"])
    torch_pred = predict(head, prepared.bits_test, torch.device("cpu")).numpy()

    ref = Reference(build_graph(out / "model.onnx", precision="float32"))
    numpy_pred = ref.run(digits.x_test).predictions

    assert len(torch_pred) == len(digits.x_test) == len(numpy_pred)
    assert np.array_equal(numpy_pred, torch_pred)
    report = evaluate_model(out / "model.onnx", dataset="digits")
    assert report.samples == len(digits.x_test)
    assert report.accuracy == float(np.mean(torch_pred == digits.y_test))
    assert abs(report.accuracy - result["projection_accuracy"]) < 1e-6
