"""The record protocol (pnetc/targets/protocol.py): encoding and parsing for every model kind."""

import numpy as np
import pytest

from pnetc.errors import PnetcError
from pnetc.targets.protocol import ProtocolError, encode_records, parse_output


def test_records_hold_length_then_payload_for_every_input_type():
    assert encode_records([b"ab", b""]) == b"\x02\x00\x00\x00ab" + b"\x00\x00\x00\x00"
    assert encode_records([np.array([1, 255], np.uint8)]) == b"\x02\x00\x00\x00\x01\xff"
    assert encode_records([np.array([-1, 2])], "int8") == b"\x02\x00\x00\x00\xff\x02"
    rec = encode_records([np.array([1.5, -2.0], np.float64)], "float32")
    assert rec[:4] == (8).to_bytes(4, "little")
    assert np.array_equal(np.frombuffer(rec[4:], "<f4"), [1.5, -2.0])


@pytest.mark.parametrize("values, dtype", [([256], "uint8"), ([-129], "int8"), ([0.5], "int8"),
                                           ([np.nan], "float32"), ([1e40], "float32")])
def test_records_refuse_values_the_input_type_cannot_hold(values, dtype):
    with pytest.raises(PnetcError, match="cannot represent exactly"):
        encode_records([np.array(values)], dtype)


def test_wide_dense_samples_need_an_input_type():
    with pytest.raises(PnetcError, match="need an input type"):
        encode_records([np.array([1, 2], np.int32)])


def test_parse_int8_with_bits():
    out = parse_output("hello\nP 2 0000000500000080 7f80 96\nE 1\n", num_bits=40, num_classes=2, score_dtype="int8")
    assert out.predictions.tolist() == [2]
    assert np.flatnonzero(out.bits[0]).tolist() == [0, 2, 39]
    assert out.scores.dtype == np.int8 and out.scores.tolist() == [[127, -128]]
    assert out.stack_bytes.tolist() == [96]


def test_parse_model_without_bits_and_float_scores():
    """A plain MLP has no projection bits: the bits field is '-' and the line still has five fields."""
    one, minus_two = np.float32(1.0).view(np.uint32), np.float32(-2.0).view(np.uint32)
    line = f"P 1 - {one:08x}{minus_two:08x} 40\nE 1\n"
    out = parse_output(line, num_bits=0, num_classes=2, score_dtype="float32")
    assert out.bits.shape == (1, 0)
    assert out.scores.dtype == np.float32 and out.scores.tolist() == [[1.0, -2.0]]


def test_parse_class_only_harness_and_error_codes():
    out = parse_output("P -1 - - 0\nP 3 - - 12\nE 2\n", num_bits=0, num_classes=4, score_dtype=None)
    assert out.predictions.tolist() == [-1, 3] and out.scores.shape == (2, 0)


@pytest.mark.parametrize("text, message", [
    ("P 1 0000 7f 8\n", "8 hex digits"),
    ("P 1 zzzzzzzz 7f 8\n", "not hex"),
    ("P 1 00000001 7f\n", "4 fields"),
    ("P x 00000001 7f 8\n", "not a result line"),
    ("P 1 00000001 7f 8\nE 2\n", "reported 2 samples"),
])
def test_parse_rejects_malformed_output(text, message):
    with pytest.raises(ProtocolError, match=message):
        parse_output(text, num_bits=1, num_classes=1, score_dtype="int8")
