"""`pnetc train --out DIR`: one run per folder, --resume only on the same data, a lock against a
second run, and Ctrl-C leaves the last checkpoint and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from pnetc.outdir import scan
from tests.compiler import model_factory as mf
from tests.outputs.conftest import assert_one_line_error, no_temporaries, run_cli, snapshot, user_files_intact, \
    user_folder

SMALL = ["-T", "4", "-d", "8", "--fc", "16", "--kind", "binary", "--batch-size", "64", "--lr", "0.002"]


def train_cli(dataset, out, *extra):
    return run_cli(["train", "--dataset", str(dataset), "--out", str(out), *SMALL, *extra], 120)


def epoch(out: Path) -> int:
    return int(torch.load(out / "checkpoint.pt", weights_only=True)["epoch"])


def test_existing_run_needs_resume_or_force(tmp_path):
    out = tmp_path / "run"
    assert train_cli("digits", out, "--epochs", "2").code == 0
    before = snapshot(out)
    line = assert_one_line_error(train_cli("digits", out, "--epochs", "1"), "holds a training run",
                                 "checkpoint.pt at epoch 2 of 2", "--resume", "--force")
    assert str(out) in line
    assert snapshot(out) == before and epoch(out) == 2
    # --force starts over, and never touches a file of the user's
    (out / "notes.txt").write_text("mine\n")
    r = train_cli("digits", out, "--epochs", "1", "--force")
    assert r.code == 0, r.stderr
    assert epoch(out) == 1 and (out / "notes.txt").read_text() == "mine\n"
    no_temporaries(out)


def test_resume_on_other_data_refused(tmp_path):
    a, b = mf.write_dense_npz(tmp_path / "a.npz"), mf.write_dense_npz(tmp_path / "b.npz", seed=12)
    out = tmp_path / "run"
    assert train_cli(a, out, "--epochs", "2").code == 0
    before = snapshot(out)
    assert_one_line_error(train_cli(b, out, "--epochs", "2", "--resume"), "--resume", "trained on 'a'", "not on 'b'")
    # the same name with other contents is other data too
    b.replace(a)
    assert_one_line_error(train_cli(a, out, "--epochs", "2", "--resume"), "--resume", "data has changed")
    assert snapshot(out) == before


def test_folder_of_user_files_and_old_checkpoints(tmp_path):
    out = user_folder(tmp_path / "project")
    before = snapshot(out)
    assert_one_line_error(train_cli("digits", out, "--epochs", "1"), "is not a pnetc output", "--force")
    assert snapshot(out) == before
    # a checkpoint pnetc's manifest does not list (an older pnetc, a copy) is never replaced
    (out / "checkpoint.pt").write_bytes(b"someone else's checkpoint")
    before = snapshot(out)
    assert_one_line_error(train_cli("digits", out, "--epochs", "1", "--force"), "checkpoint.pt", "will not overwrite")
    assert_one_line_error(train_cli("digits", out, "--epochs", "1", "--resume", "--force"), "checkpoint.pt")
    assert snapshot(out) == before
    user_files_intact(out)


def test_second_run_refused_while_first_trains_and_ctrl_c_keeps_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "pnetc", "-q", "train", "--dataset", "digits", "--out", str(out), *SMALL]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    first = subprocess.Popen([*cmd, "--epochs", "2000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.pt").is_file():
            assert first.poll() is None and time.monotonic() < deadline, "the first run did not start"
            time.sleep(0.05)
        second = subprocess.run([*cmd, "--epochs", "1", "--force"], capture_output=True, text=True, env=env,
                                timeout=120)
        assert first.poll() is None, "the first run ended before the second one was tried"
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip().splitlines() == [
            f"pnetc: error: another pnetc command is writing {out} right now; wait for it to finish or choose "
            f"another --out"]
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130
    assert err.strip().splitlines() == ["pnetc: error: interrupted (SIGINT)"]
    assert sorted(p.name for p in out.iterdir()) == [".pnetc-manifest.json", "checkpoint.pt"]
    done = epoch(out)
    assert 1 <= done < 2000
    no_temporaries(out)
    # the checkpoint is whole (it loaded above) and listed as pnetc's, so --resume may continue it
    assert scan(out, "train").ours == {"checkpoint.pt"}
