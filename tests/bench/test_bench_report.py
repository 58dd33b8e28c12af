"""The tables and target verdicts rendered from raw results (synthetic numbers, no builds)."""

import numpy as np
import pytest

from bench import report
from bench.adapters import emx_failure, mlp_layers


def board(acc, flash, ram, instr, stages=()):
    return {"accuracy_device": acc, "flash_bytes": flash, "ram_bytes": ram, "ram_static_bytes": ram - 100,
            "stack_bytes": 100, "instructions_mean": instr, "instructions_min": instr, "instructions_max": instr,
            "flash_sections": {"text": 100, "rodata": flash - 100, "data": 0}, "reference_disagreements": 0,
            "stages": list(stages), "samples": 10}


def results(ours_instr=100_000, our_acc=0.87, dense_instr=1_200):
    rows = [
        {"key": "pnetc-int8", "label": "pnetc: projection net", "tool": "pnetc", "model": "projection net",
         "precision": "int8", "stage_macs": [None, None, 1_000], "notes": [], "accuracy_reference": our_acc,
         "boards": {"mps2-an386": board(our_acc, 20_000, 800, ours_instr, [50_000, 40_000, dense_instr]),
                    "linux-aarch64": board(our_acc, 21_000, 900, ours_instr * 1.1)}},
        {"key": "emlearn-float32", "label": "emlearn: sklearn MLP", "tool": "emlearn", "model": "sklearn MLP",
         "precision": "float32", "notes": [], "accuracy_reference": 0.86,
         "boards": {"mps2-an386": board(0.86, 1_000_000, 2_000, 1_000_000)}},
        {"key": "emx-float32", "label": "emx-onnx-cgen: trainer MLP", "tool": "emx-onnx-cgen", "model": "",
         "precision": "float32", "notes": [], "unavailable": "emx-onnx-cgen cannot compile x.onnx: Unsupported op Foo",
         "boards": {}},
    ]
    return {"boards": ["mps2-an386", "linux-aarch64"], "datasets": {"toy": {"samples": 10, "rows": rows}}}


def test_main_table_has_every_row_and_the_reason_a_peer_is_missing():
    entry = results()["datasets"]["toy"]
    text = "\n".join(report.main_table(entry, ["mps2-an386", "linux-aarch64"]))
    assert "| pnetc: projection net (int8) | projection net | 87.00 % | 20,000 | 800 | 100,000 | 110,000 | 1.00× |" in text
    assert "| 1,000,000 | — | 10.00× |" in text          # emlearn: not run on aarch64
    assert "cannot: see note" in text and "Unsupported op Foo" in text


def test_targets_met_and_not_met():
    met = "\n".join(report.targets(results()["datasets"]["toy"]))
    assert "0.100×" in met and "→ **met**" in met
    assert "not measured" in met                        # emx row unavailable
    assert "1.20** instructions per MAC → **met**" in met
    slow = "\n".join(report.targets(results(ours_instr=400_000, dense_instr=2_000)["datasets"]["toy"]))
    assert "0.400×" in slow and "2.00** instructions per MAC → **not met**" in slow
    worse = "\n".join(report.targets(results(our_acc=0.80)["datasets"]["toy"]))
    assert "→ **not met**" in worse.splitlines()[0]    # fast enough but less accurate


def test_write_report_makes_markdown_and_a_chart(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "docs" / "benchmarks.md"
    report.write_report(results(), out, tmp_path / "docs" / "img")
    text = out.read_text()
    assert text.startswith("# Benchmarks") and "python -m bench" in text
    assert "![toy](img/bench-toy.png)" in text
    assert (tmp_path / "docs" / "img" / "bench-toy.png").stat().st_size > 1000


def test_mlp_layers_reads_gemm_shapes(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w0 = numpy_helper.from_array(np.zeros((16, 8), np.float32), "w0")     # transB=1: [out, in]
    w1 = numpy_helper.from_array(np.zeros((16, 3), np.float32), "w1")     # MatMul: [in, out]
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w0"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "w1"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w0, w1])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g), str(path))
    assert mlp_layers(path) == [(8, 16), (16, 3)]


def test_emx_failure_picks_the_reason_line():
    class Proc:
        returncode = 1
        stdout = "Loading model ... \nGenerating C code ... FAILED\nResult: Unsupported op ai.pnetc.HashProjection\n"
        stderr = ""
    assert emx_failure(Proc()) == "Result: Unsupported op ai.pnetc.HashProjection"


def bits_results():
    pts = [{"T": None, "d": None, "fc": None, "mode": "trainer", "bits": None, "weight_bytes": 1_077_288,
            "accuracy": 0.89, "trainer": "mlp", "epochs": 5}]
    for fc in ("0", "128"):
        for T in (8, 16, 32):
            pts.append({"T": T, "d": 8, "fc": fc, "mode": "joint", "bits": 8 * T, "weight_bytes": 40 * T,
                        "accuracy": 0.7 + T / 1000, "accuracy_int8": 0.69 + T / 1000, "flash_bytes": 3_000 + 50 * T,
                        "epochs": 5, **({"instructions": 1_000.0 * T} if fc == "0" else {})})
    pts.append({"T": 64, "d": 8, "fc": "128", "mode": "joint", "bits": 512, "accuracy": None, "error": "x"})
    return {"fashion-mnist": {"dataset": "fashion-mnist", "board": "mps2-an386", "grid": "T=8,16,32 d=8 fc=0,128",
                              "modes": "joint", "points": pts}}


def test_bits_section_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from bench.bits import bits_section, plot_bits

    png = plot_bits(bits_results(), tmp_path / "bits.png")
    assert png.stat().st_size > 1000
    text = "\n".join(bits_section(bits_results(), "img/bits.png"))
    assert "![how many neural bits](img/bits.png)" in text
    assert "Trainer (mlp): 89.00 %, float32 weights 1,077,288 bytes." in text
    assert "| 32 | 8 | 128 | 256 | 73.20 % | 72.20 % | 4,600 | — |" in text
    assert "| 32 | 8 | 0 | 256 | 73.20 % | 72.20 % | 4,600 | 32,000 |" in text
    assert "| 64 | 8 | 128 | 512 | — | — | — | — |" in text


def test_report_includes_the_bits_section(tmp_path):
    pytest.importorskip("matplotlib")
    res = results()
    res["bits"] = bits_results()
    out = tmp_path / "benchmarks.md"
    report.write_report(res, out, tmp_path / "img")
    assert "## How many neural bits" in out.read_text() and (tmp_path / "img" / "bits.png").exists()
