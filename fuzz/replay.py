"""Differential check of a fuzz corpus against the numpy reference.

    python fuzz/replay.py TARGET [CORPUS_DIR ...]

Runs fuzz/build/replay_TARGET (the fuzz harness built with gcc -DFUZZ_REPLAY, no libFuzzer) on
every input of the corpus (default: the committed seeds plus $PNETC_FUZZ_BUILD/corpus/TARGET, fuzz/build by default) and
compares what the C code computed with numpy:

  dense, ternary_table, text   class, int8 scores and projection bits vs the golden
                               interpreter (pnetc.ir.interpret.Reference) of the same model
  kernels                      project_binary/ternary(_table), text_project, hash32, fnv1a vs
                               pnetc.kernels / pnetc.hashing, decoding each input exactly as
                               fuzz/targets/fuzz_kernels.c does

Prints one summary line; exits 1 on any mismatch.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pnetc import hashing, kernels  # noqa: E402
from pnetc.compiler import build_graph  # noqa: E402
from pnetc.ir.interpret import Reference  # noqa: E402

HERE = Path(__file__).resolve().parent
PROJECTION = {"dense": "hash", "ternary_table": "table", "text": "hash"}


def run_replay(binary: Path, files: list[Path]) -> dict[str, list[str]]:
    """{path: output lines} from the replay binary, 400 files per process."""
    out: dict[str, list[str]] = {}
    for i in range(0, len(files), 400):
        text = subprocess.run([str(binary), *map(str, files[i:i + 400])], capture_output=True, text=True,
                              check=True).stdout
        cur = None
        for line in text.splitlines():
            if line.startswith("input "):
                cur = line[6:]
                out[cur] = []
            elif line != "end":
                out[cur].append(line)
    return out


def words(line: str) -> list[int]:
    return [int(w, 16) for w in line.split()[1:]]


def check_model(target: str, build: Path, files: list[Path], results: dict) -> list[str]:
    graph = build_graph(build / "models" / f"{target}.onnx", precision="int8", projection=PROJECTION[target])
    ref = Reference(graph)
    errors = []
    data = [f.read_bytes() for f in files]
    if target == "text":
        inputs = data
    else:
        n = graph.input_size
        inputs = np.zeros((len(data), n), np.uint8)
        for i, d in enumerate(data):
            inputs[i, :min(n, len(d))] = np.frombuffer(d[:n], np.uint8)
    out = ref.run(inputs)
    packed = hashing.pack_bits(out.bits)
    for i, f in enumerate(files):
        lines = results[str(f)]
        got = {ln.split()[0]: ln for ln in lines}
        c = int(got["class"].split()[1])
        scores = [int(v) for v in got["scores"].split()[1:]]
        if c != int(out.predictions[i]) or scores != [int(v) for v in out.scores[i]] or \
                words(got["bits"]) != [int(w) for w in np.atleast_1d(packed[i])]:
            errors.append(f"{f}: C class {c} scores {scores}, reference {int(out.predictions[i])} "
                          f"{out.scores[i].tolist()}")
    return errors


def decode_x(payload: bytes, max_n: int) -> np.ndarray:
    n = min(len(payload) // 2, max_n)
    x = np.frombuffer(payload[:2 * n], "<i2").astype(np.int32)
    lim = min(32767, ((1 << 30) - 1) // max(n, 1))
    return np.clip(x, -lim, lim).astype(np.int16)


def expect_kernels(d: bytes) -> list[str] | None:
    """The replay lines fuzz_kernels.c must print for input d, computed with numpy."""
    if len(d) < 10:
        return None
    op = d[0] % 6
    seed, nb_raw, nnz_raw = struct.unpack("<IHH", d[1:9])
    p = d[10:]
    lines = [f"op {op}"]
    fmt = lambda tag, w: " ".join([tag] + [f"{int(v):08x}" for v in np.atleast_1d(w)])  # noqa: E731
    if op <= 3:
        num_bits, nnz = 1 + nb_raw % 128, 1 + nnz_raw % 256
        x = decode_x(p, 32768 if op == 3 else 65536)
        if x.size == 0:
            return lines
        if op == 0:
            bits = kernels.project_binary(x, seed, num_bits)
        elif op == 1:
            bits = kernels.project_ternary(x, seed, num_bits, nnz)
        elif op == 2:
            bits = kernels.project_binary_table(x, kernels.binary_table(seed, num_bits, x.size), num_bits)
        else:
            table = kernels.ternary_table(seed, num_bits, x.size, nnz)
            bits = kernels.project_ternary_table(x, table, num_bits, nnz)
        lines.append(fmt("bits", bits))
    elif op == 4:
        num_bits, char_max_n, words_ = nb_raw % 257, d[9] % 7, (d[9] >> 3) % 3
        if num_bits < 1:
            lines.append("rc -2")
        elif char_max_n > 5 or words_ > 1:
            lines.append("rc -3")
        else:
            lines.append(fmt("bits", kernels.text_project(p, seed, num_bits, char_max_n, words_)))
            hashes = 1 + nnz_raw % 8
            lines.append(fmt("presence", kernels.text_presence(p, seed, num_bits, hashes, char_max_n, words_)))
    else:
        for i in range(0, len(p) - 7, 8):
            a, b = struct.unpack("<II", p[i:i + 8])
            lines.append(f"hash32 {hashing.hash32_int(seed, a, b):08x}")
        lines.append(f"fnv1a {hashing.fnv1a(p):08x}")
    return lines


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    target, dirs = argv[0], [Path(a) for a in argv[1:]]
    build = Path(os.environ.get("PNETC_FUZZ_BUILD", HERE / "build"))
    if not dirs:
        dirs = [HERE / "corpus" / target, build / "corpus" / target]
    files = sorted(f for d in dirs if d.is_dir() for f in d.iterdir() if f.is_file())
    results = run_replay(build / f"replay_{target}", files)
    if target == "kernels":
        errors = []
        for f in files:
            want = expect_kernels(f.read_bytes())
            if want is not None and results[str(f)] != want:
                errors.append(f"{f}: C {results[str(f)][:3]} numpy {want[:3]}")
    else:
        errors = check_model(target, build, files, results)
    for e in errors[:20]:
        print("replay: MISMATCH", e, file=sys.stderr)
    print(f"replay {target}: {len(files)} inputs, {len(errors)} mismatches vs numpy")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
