"""Model code runs confined: a hostile firmware or executable cannot write or read files outside its
run folder (QEMU semihosting, qemu-user system calls, native host), while normal runs still work.
The same firmware with the sandbox switched off shows the attack is real."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from pnetc.errors import PnetcError
from pnetc.targets import sandbox
from pnetc.targets.boards import get_board
from pnetc.targets.run import run_samples

from .conftest import last_json, pnetc, skip_unless_runnable
from .toy_model import ToyModel, toy_inputs

pytestmark = pytest.mark.qemu

SECRET = "s3cr3t-host-file"
# semihosting (an385, an386), qemu-user system calls (aarch64), a native executable (host)
ESCAPE_BOARDS = ["mps2-an385", "mps2-an386", "linux-aarch64", "host"]


def hostile_toy(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    target = outside / "escaped.txt"
    return ToyModel(escape_to=str(target), secret_from=str(outside / "secret.txt")), target


def run_toy(name, model, tmp_path):
    x = toy_inputs(4)
    device, run = run_samples(get_board(name), model, list(x), tmp_path / "run", timeout_s=60)
    np.testing.assert_array_equal(device.predictions, model.reference.run(x).predictions)
    return run


@pytest.mark.parametrize("name", ESCAPE_BOARDS)
def test_firmware_cannot_write_or_read_outside_its_run_folder(name, tmp_path):
    skip_unless_runnable(name)
    model, target = hostile_toy(tmp_path)
    run = run_toy(name, model, tmp_path)
    assert "toy: escape write blocked" in run.console, run.console
    assert "toy: secret read blocked" in run.console, run.console
    assert SECRET not in run.console
    assert not target.exists()
    assert sorted(p.name for p in (tmp_path / "outside").iterdir()) == ["secret.txt"]


@pytest.mark.parametrize("name", ["mps2-an386", "host"])
def test_without_the_sandbox_the_same_firmware_escapes(name, tmp_path, monkeypatch, capfd):
    """PNETC_NO_SANDBOX=1 runs unconfined, with a warning: proof the test above tests something."""
    skip_unless_runnable(name)
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    monkeypatch.setattr(sandbox, "_warned", False)
    model, target = hostile_toy(tmp_path)
    run = run_toy(name, model, tmp_path)
    assert "toy: escape write ok" in run.console and f"toy: secret {SECRET}" in run.console
    assert target.read_text() == "escaped\n"
    assert "PNETC_NO_SANDBOX is set: model code runs UNCONFINED" in capfd.readouterr().err


def test_confined_command_sees_only_its_folder_and_no_network(tmp_path, monkeypatch):
    """What the sandbox shows: system folders read-only, the work folder writable, nothing else."""
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "beside.txt").write_text("x")
    monkeypatch.setenv("SECRET_TOKEN", "leak")
    root = sandbox.run(["ls", "/"], writable=work).stdout.decode().split()
    assert "usr" in root and "home" not in root and "root" not in root and "work" not in root
    script = ("touch /usr/x 2>/dev/null && echo usr-writable; touch ../y 2>/dev/null && echo up-writable; "
              f"cat {tmp_path}/beside.txt 2>/dev/null && echo beside-readable; touch made; "
              "tail -n +3 /proc/net/dev | cut -d: -f1; echo env=$HOME$SECRET_TOKEN")
    proc = sandbox.run(["sh", "-c", script], writable=work)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    assert "usr-writable" not in out and "up-writable" not in out and "beside-readable" not in out
    assert (work / "made").exists() and not (tmp_path / "y").exists()
    interfaces = out.split("env=")[0].split()
    assert interfaces in ([], ["lo"])  # a network namespace of its own: no way out
    assert out.endswith("env=\n")  # an empty environment: no tokens from the caller's


def test_death_by_signal_reads_as_unconfined(tmp_path):
    """bwrap reports a signal as 128 + N; callers see -N as from subprocess (a fault, not an exit code)."""
    proc = sandbox.run(["sh", "-c", "kill -SEGV $$"], writable=tmp_path)
    assert proc.returncode == -11


def test_a_link_planted_in_the_run_folder_is_not_followed(tmp_path):
    """A hostile run may leave pnet_out.txt or pnet_in.bin as links to the user's files, or a FIFO."""
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    link = tmp_path / "pnet_out.txt"
    link.symlink_to(victim)
    with pytest.raises(PnetcError, match="not a regular file"):
        sandbox.read_result(link)
    sandbox.fresh(link).write_text("new")
    assert victim.read_text() == "mine" and stat.S_ISREG(os.lstat(link).st_mode)
    fifo = tmp_path / "console.txt"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    with pytest.raises(PnetcError, match="not a regular file"):
        sandbox.read_result(fifo)


def test_missing_bubblewrap_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(sandbox.OPT_OUT_VARIABLE, raising=False)
    monkeypatch.setattr(sandbox, "_probed", False)  # both restored afterwards: later tests see the real probe
    monkeypatch.setattr(sandbox, "_probe_error", None)
    with pytest.raises(PnetcError) as info:
        sandbox.require()
    msg = str(info.value)
    assert "apt-get install --no-install-recommends bubblewrap" in msg and "PNETC_NO_SANDBOX=1" in msg
    assert "\n" not in msg


def test_unusable_bubblewrap_refuses_the_run_in_one_line(factory_models, tmp_path):
    """As in a container without user namespaces: exit 2 and one line; the opt-out runs, with a warning."""
    skip_unless_runnable("host")
    fake = tmp_path / "bin"
    fake.mkdir()
    bwrap = fake / "bwrap"
    bwrap.write_text("#!/bin/sh\necho 'bwrap: No permissions to create a new namespace' >&2\nexit 1\n")
    bwrap.chmod(0o755)
    env = {"PATH": f"{fake}:{os.environ['PATH']}"}
    args = ["run", str(factory_models["dense"]), "--board", "host", "--data", str(factory_models["dense_npz"]),
            "--json"]
    proc = pnetc(*args, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pnetc: error: the bubblewrap sandbox")
    assert "No permissions" in proc.stderr and "PNETC_NO_SANDBOX=1" in proc.stderr
    proc = pnetc(*args, env={**env, "PNETC_NO_SANDBOX": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "UNCONFINED" in proc.stderr and last_json(proc.stdout)["mismatches"] == 0
