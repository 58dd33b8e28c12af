"""Frontend: ONNX -> IR (`load_model`)."""

from pnetc.frontend.onnx_import import SUPPORTED_OPS, load_model, load_onnx

__all__ = ["SUPPORTED_OPS", "load_model", "load_onnx"]
