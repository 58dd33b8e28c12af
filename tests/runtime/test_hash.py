"""hash.c against pnetc.hashing (the spec) and the golden vectors of docs/format.md."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import CHAR_VARIANTS, HOST, Reader, pack

from pnetc import hashing as H
from pnetc import kernels as K

HASH32_GOLDEN = [
    (0, 0, 0, 0x00000000),
    (1, 2, 3, 0xB3DD8F94),
    (0xDEADBEEF, 7, 0xFFFFFFFF, 0x08D00201),
    (42, 719, 24, 0xEF8EC650),
]
FNV1A_GOLDEN = [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"\xff", 0x7A0B824E)]


def _run(kernel, triples, strings):
    data = b"".join(pack(0, *(int(v) for v in t)) for t in triples)
    data += b"".join(pack(1, h0, len(s), s) for s, h0 in strings)
    r = Reader(kernel.run(data))
    hashes = r.take(np.uint32, 3 * len(triples)).reshape(-1, 3)
    fnvs = r.take(np.uint32, len(strings))
    assert r.done()
    return hashes, fnvs


@pytest.mark.parametrize("toolchain", HOST + CHAR_VARIANTS)
def test_hash_matches_spec(build_kernel, toolchain, rng):
    kernel = build_kernel("test_hash", ["hash.c"], toolchain)
    edge = [0, 1, 31, 32, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
    triples = [(s, a, b) for s, a, b, _ in HASH32_GOLDEN]
    triples += [(s, a, b) for s in edge for a in edge[:4] for b in edge]
    triples += [tuple(t) for t in rng.integers(0, 1 << 32, size=(500, 3), dtype=np.uint64)]
    strings = [(s, H.FNV_OFFSET) for s, _ in FNV1A_GOLDEN]
    strings += [(bytes(range(256)), H.FNV_OFFSET), (b"\x00" * 17, 0), (b"\x80\xff\x7f", 0xFFFFFFFF)]
    strings += [(rng.integers(0, 256, size=int(n), dtype=np.uint8).tobytes(), int(h))
                for n, h in zip(rng.integers(0, 300, size=50), rng.integers(0, 1 << 32, size=50))]
    hashes, fnvs = _run(kernel, triples, strings)

    t = np.array(triples, dtype=np.uint64).astype(np.uint32)
    np.testing.assert_array_equal(hashes[:, 0], K.fmix32(t[:, 0]))
    np.testing.assert_array_equal(hashes[:, 1], K.hash_row(t[:, 0], t[:, 1]))
    np.testing.assert_array_equal(hashes[:, 2], K.hash32(t[:, 0], t[:, 1], t[:, 2]))
    assert [int(h) for h in hashes[: len(HASH32_GOLDEN), 2]] == [g for *_, g in HASH32_GOLDEN]
    assert [int(f) for f in fnvs] == [H.fnv1a(s, h0) for s, h0 in strings]
    assert [int(f) for f in fnvs[: len(FNV1A_GOLDEN)]] == [g for _, g in FNV1A_GOLDEN]
