"""Side-by-side benchmark of pnetc against its peers (emlearn, emx-onnx-cgen): `python -m bench`."""
