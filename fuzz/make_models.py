"""Generate and compile the three reference models the fuzz targets link against.

The models come from the compiler tests' model factory (random weights, fixed seeds), so
the fuzz build is reproducible from the repository alone:

  dense          binary hash projection, 64 uint8 inputs, 96 bits, int8 (the digits shape)
  ternary_table  very sparse ternary projection stored as a flash table, two hidden layers, int8
  text           TextProjection (char 1..3-grams + words), 64 bits, int8 (the langid shape)

Each is compiled with --name model into OUT/gen/<model>/, and OUT/gen/<model>/fuzz_params.h
records the projection parameters the harness re-derives independently.
Usage: python fuzz/make_models.py OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pnetc.compiler import compile_model  # noqa: E402
from tests.compiler import model_factory as mf  # noqa: E402

MODELS = {
    "dense": (lambda p: mf.make_dense_model(p), "hash"),
    "ternary_table": (lambda p: mf.make_dense_model(p, kind="ternary", seed=4, hidden=(24, 16)), "table"),
    "text": (lambda p: mf.make_text_model(p), "hash"),
}


def projection_attrs(path: Path) -> dict:
    model = onnx.load(str(path))
    node = next(n for n in model.graph.node if n.domain == "ai.pnetc")
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def main(out: str) -> None:
    out_dir = Path(out)
    (out_dir / "models").mkdir(parents=True, exist_ok=True)
    for name, (make, projection) in MODELS.items():
        path = make(out_dir / "models" / f"{name}.onnx")
        gen = out_dir / "gen" / name
        compile_model(path, gen, name="model", precision="int8", projection=projection)
        attrs = projection_attrs(path)
        lines = [f"/* projection parameters of {name}.onnx, for the fuzz harness */",
                 f"#define FUZZ_SEED 0x{attrs['seed'] & 0xFFFFFFFF:08X}u",
                 f"#define FUZZ_NUM_BITS {attrs['num_bits']}",
                 f"#define FUZZ_CHAR_MAX_N {attrs.get('char_max_n', 0)}",
                 f"#define FUZZ_WORDS {attrs.get('words', 0)}", ""]
        (gen / "fuzz_params.h").write_text("\n".join(lines))
        print(f"make_models: {name} -> {gen}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
