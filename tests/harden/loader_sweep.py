"""A longer random-damage sweep of the model loader than the hypothesis tests run in the suite.

    python -m tests.harden.loader_sweep SEED CASES

Each case damages one of the four reference models (truncation, 1-8 bit flips, up to 64 overwritten
bytes, a duplicated or deleted span of up to 200 bytes) and runs `pnetc compile` in-process with a
20 s bound. A case is bad unless it ends in exit 0 with an empty stderr, or in exit 2 with exactly
one `pnetc: error:` line. Bad inputs are kept in the printed directory. Exit 1 if any case is bad.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from tests.compiler import model_factory as mf
from tests.harden.conftest import run_cli


def damage(rng: random.Random, data: bytearray) -> tuple[str, bytearray]:
    kind = rng.choice(["truncate", "flip", "overwrite", "duplicate", "delete"])
    j = rng.randrange(len(data))
    if kind == "truncate":
        data = data[:j]
    elif kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "overwrite":
        data[j:j + rng.randint(1, 64)] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "duplicate":
        data[j:j] = data[j:j + rng.randint(1, 200)]
    else:
        del data[j:j + rng.randint(1, 200)]
    return kind, data


def main(seed: int, cases: int) -> int:
    d = Path(tempfile.mkdtemp(prefix="pnetc-sweep-"))
    refs = {"dense": mf.make_dense_model(d / "dense.onnx"),
            "ternary": mf.make_dense_model(d / "ternary.onnx", kind="ternary", seed=4, hidden=(24, 16)),
            "text": mf.make_text_model(d / "text.onnx"), "foreign": mf.make_foreign_mlp(d / "foreign.onnx")}
    rng = random.Random(seed)
    codes: dict[int, int] = {}
    bad = 0
    for i in range(cases):
        base = rng.choice(sorted(refs))
        kind, data = damage(rng, bytearray(refs[base].read_bytes()))
        path = d / "case.onnx"
        path.write_bytes(bytes(data))
        extra = ["--precision", "float32"] if base == "foreign" else []
        try:
            res = run_cli(["compile", str(path), "-o", str(d / "out"), *extra], 20)
        except BaseException as exc:  # a traceback or a hang for the user
            bad += 1
            (d / f"bad{i}.onnx").write_bytes(bytes(data))
            print(f"BAD {base} {kind} case {i}: {exc!r}"[:300])
            continue
        lines = res.stderr.strip().splitlines()
        codes[res.code] = codes.get(res.code, 0) + 1
        if not ((res.code == 0 and not lines) or
                (res.code == 2 and len(lines) == 1 and lines[0].startswith("pnetc: error: "))):
            bad += 1
            (d / f"bad{i}.onnx").write_bytes(bytes(data))
            print(f"BAD {base} {kind} case {i}: exit {res.code}: {res.stderr[-300:]!r}")
    print(f"loader sweep seed {seed}: {cases} cases, exit codes {codes}, {bad} bad (inputs in {d})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
