"""Frontend: ONNX -> IR (`load_model`)."""

from pnetc.frontend.onnx_import import SUPPORTED_OPS, load_model

__all__ = ["SUPPORTED_OPS", "load_model"]
