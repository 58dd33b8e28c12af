"""Fast tests of the harness's records, output parsing and main template (no toolchain needed)."""

import numpy as np
import pytest

from bench.harness import as_records, encode_records, parse_harness_output, render_main
from pnetc.errors import PnetcError


def test_records_are_length_prefixed_raw_bytes():
    x = np.array([[1, 2, 3], [250, 0, 7]], np.uint8)
    data = encode_records(x)
    assert data == b"\x03\x00\x00\x00\x01\x02\x03\x03\x00\x00\x00\xfa\x00\x07"


def test_float_samples_become_their_little_endian_bytes():
    x = np.array([[1.0, -2.5], [0.0, 3.25]], np.float32)
    rec = as_records(x)
    assert rec.shape == (2, 8) and rec.dtype == np.uint8
    assert rec[1].tobytes() == np.array([0.0, 3.25], "<f4").tobytes()
    assert encode_records(rec)[:4] == b"\x08\x00\x00\x00"


def test_parse_predictions_and_stack():
    preds, stack = parse_harness_output("P 3 120\nP 0 96\nnoise\nP -1 8\nE 3\n")
    assert preds.tolist() == [3, 0, -1]
    assert stack.tolist() == [120, 96, 8]


def test_parse_rejects_a_short_answer_file():
    with pytest.raises(PnetcError, match="reported 3 samples but wrote 2"):
        parse_harness_output("P 1 4\nP 2 4\nE 3\n")


@pytest.mark.parametrize("bench", [True, False])
def test_main_calls_the_adapter_between_markers_only_in_the_bench_build(bench):
    src = render_main("mps2-an386", 3136, bench=bench, purpose="test")
    assert "#define RECORD_BYTES 3136u" in src
    assert "pred = bench_predict(input_buf);" in src
    assert ("pnet_bench_begin();" in src) is bench
    if bench:
        body = src[src.index("paint_stack(lo, hi);\n"):]
        assert body.index("pnet_bench_begin();") < body.index("bench_predict(input_buf)") < body.index("pnet_bench_end();")
