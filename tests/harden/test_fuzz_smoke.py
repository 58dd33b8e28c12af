"""Fuzz smoke inside the test suite: build the libFuzzer targets, fuzz each one for a few seconds
(PNETC_FUZZ_SECONDS, default 5) with ASan + every UBSan check, and replay the committed seed corpora
through the numpy reference (fuzz/replay.py).

Why a few seconds here: the whole suite must stay well under 15 minutes on 2 cores; 4 targets x
60 s would take 4 minutes of one worker. The 60-second-per-target smoke that issue 6 asks of CI is
`bash fuzz/smoke.sh 60`, a separate CI step; long campaigns are `bash fuzz/run.sh TARGET 0 -runs=N`
(docs/hardening.md). Skips when clang cannot link libFuzzer (Debian: libclang-rt-14-dev).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"
TARGETS = {"dense": 256, "ternary_table": 256, "text": 1048576, "kernels": 4096}
SECONDS = int(os.environ.get("PNETC_FUZZ_SECONDS", "5"))


def _libfuzzer_works(tmp: Path) -> bool:
    if shutil.which("clang") is None or shutil.which("gcc") is None:
        return False
    src = tmp / "probe.c"
    src.write_text("#include <stdint.h>\n#include <stddef.h>\n"
                   "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    res = subprocess.run(["clang", "-fsanitize=fuzzer,address,undefined", str(src), "-o", str(tmp / "probe")],
                         capture_output=True, text=True, timeout=120)
    return res.returncode == 0


@pytest.fixture(scope="module")
def fuzz_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz-build")
    if not _libfuzzer_works(tmp):
        pytest.skip("clang cannot link libFuzzer (install libclang-rt-14-dev)")
    env = {**os.environ, "PNETC_FUZZ_BUILD": str(tmp), "PYTHON": sys.executable, "FUZZ_BUILD_FAST": "0"}
    res = subprocess.run(["bash", str(FUZZ / "build.sh")], capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr
    return tmp


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_target_smoke(fuzz_build, tmp_path, target):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    res = subprocess.run([str(fuzz_build / f"fuzz_{target}"), f"-max_len={TARGETS[target]}",
                          f"-max_total_time={SECONDS}", "-timeout=25", "-rss_limit_mb=2048", "-print_final_stats=1",
                          f"-artifact_prefix={tmp_path}/", str(corpus), str(FUZZ / "corpus" / target)],
                         capture_output=True, text=True, timeout=SECONDS + 120)
    assert res.returncode == 0, res.stderr[-4000:]
    runs = int(re.search(r"stat::number_of_executed_units: (\d+)", res.stderr).group(1))
    assert runs > len(list((FUZZ / "corpus" / target).iterdir()))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_seed_corpus_matches_numpy(fuzz_build, target):
    env = {**os.environ, "PNETC_FUZZ_BUILD": str(fuzz_build)}
    res = subprocess.run([sys.executable, str(FUZZ / "replay.py"), target, str(FUZZ / "corpus" / target)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    n = len(list((FUZZ / "corpus" / target).iterdir()))
    assert f"{n} inputs, 0 mismatches" in res.stdout


def test_replay_reports_a_mismatch(fuzz_build, tmp_path):
    """The numpy replay can fail: an input whose C output is tampered with is reported."""
    sys.path.insert(0, str(FUZZ))
    try:
        import replay
    finally:
        sys.path.remove(str(FUZZ))
    seed = FUZZ / "corpus" / "kernels" / "binary"
    got = replay.run_replay(fuzz_build / "replay_kernels", [seed])[str(seed)]
    want = replay.expect_kernels(seed.read_bytes())
    assert got == want and want[1].startswith("bits ")  # replay.main reports any difference of these lists
    files = [FUZZ / "corpus" / "dense" / "sample0"]
    results = replay.run_replay(fuzz_build / "replay_dense", files)
    assert replay.check_model("dense", fuzz_build, files, results) == []
    results[str(files[0])] = [ln if not ln.startswith("class") else "class 99" for ln in results[str(files[0])]]
    assert len(replay.check_model("dense", fuzz_build, files, results)) == 1
