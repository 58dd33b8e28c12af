"""SIGTERM, SIGHUP and SIGINT to a running `pnetc`: the emulator or host program (its own session)
is killed, the temp folders are removed, and pnetc exits 128 + the signal with one line.
Timeouts that could never fire, or fire at once, are refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import pnetc, skip_unless_runnable

pytestmark = pytest.mark.qemu


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, start time, command line) of every process on the machine."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        table[int(entry)] = (int(fields[1]), fields[19], cmdline)
    return table


def descendants(root: int) -> dict[int, tuple[str, str]]:
    """pid -> (start time, command line) of every process below `root`."""
    table = process_table()
    found, todo = {}, [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, start, cmdline) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = (start, cmdline)
                todo.append(pid)
    return found


def still_running(processes: dict[int, tuple[str, str]]) -> list[str]:
    table = process_table()
    return [cmd for pid, (start, cmd) in processes.items() if pid in table and table[pid][1] == start]


def stop_while(args: list[str], program: str, signum: int, tmp_path: Path, settle: float = 0.3, env=None):
    """Start `pnetc ARGS` with a private TMPDIR, wait until `program` runs below it, send the signal;
    return (the finished process, its stderr, what ran below it, the private TMPDIR)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "pnetc", "-q", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        below: dict = {}
        while time.monotonic() < deadline and proc.poll() is None:
            below = descendants(proc.pid)
            if any(program in cmd for _, cmd in below.values()):
                break
            time.sleep(0.02)
        assert any(program in cmd for _, cmd in below.values()), f"{program} never started: {proc.communicate()}"
        time.sleep(settle)  # let it get going
        below.update(descendants(proc.pid))
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 5
    while still_running(below) and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc, err, below, tmp


@pytest.fixture(scope="module")
def slow_data(factory_models):
    """So many samples that the emulator runs for minutes unless stopped."""
    from tests.compiler import model_factory as mf

    return mf.write_dense_npz(factory_models["dir"] / "many.npz", n=100_000)


@pytest.mark.parametrize("signum, message", [
    (signal.SIGTERM, "pnetc: error: terminated by SIGTERM"),
    (signal.SIGHUP, "pnetc: error: terminated by SIGHUP"),
    (signal.SIGINT, "pnetc: error: interrupted (SIGINT)"),
])
def test_signal_to_run_kills_qemu_and_removes_temp_folders(signum, message, factory_models, slow_data, tmp_path):
    skip_unless_runnable("mps2-an386")
    args = ["run", str(factory_models["dense"]), "--board", "mps2-an386", "--data", str(slow_data)]
    proc, err, below, tmp = stop_while(args, "qemu-system-arm", signum, tmp_path)
    assert proc.returncode == 128 + signum, err
    assert err.strip().splitlines() == [message]
    assert still_running(below) == []
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("pnetc-")) == []


def test_sigterm_kills_qemu_without_the_sandbox_too(factory_models, slow_data, tmp_path):
    """No bwrap --die-with-parent to help: the process group kill alone must stop QEMU."""
    skip_unless_runnable("mps2-an386")
    args = ["run", str(factory_models["dense"]), "--board", "mps2-an386", "--data", str(slow_data)]
    proc, err, below, tmp = stop_while(args, "qemu-system-arm", signal.SIGTERM, tmp_path,
                                       env={"PNETC_NO_SANDBOX": "1"})
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "pnetc: error: terminated by SIGTERM" and "UNCONFINED" in err
    assert any("qemu-system-arm" in cmd for _, cmd in below.values()) and still_running(below) == []
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("pnetc-")) == []


def test_sigterm_to_verify_kills_the_host_program_and_removes_its_folder(factory_models, slow_data, tmp_path):
    args = ["verify", str(factory_models["dense"]), "--data", str(slow_data)]
    proc, err, below, tmp = stop_while(args, "bwrap", signal.SIGTERM, tmp_path, settle=0)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines() == ["pnetc: error: terminated by SIGTERM"]
    assert still_running(below) == []
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("pnetc-")) == []


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "-inf"])
@pytest.mark.parametrize("command", ["run", "bench"])
def test_timeouts_that_never_or_always_fire_are_refused(command, value, factory_models):
    proc = pnetc(command, str(factory_models["dense"]), "--board", "mps2-an386", "--data",
                 str(factory_models["dense_npz"]), f"--timeout={value}")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "must be a positive, finite number of seconds" in proc.stderr


@pytest.mark.parametrize("value", [float("nan"), -1.0, 0.0, float("inf")])
def test_api_refuses_the_same_timeouts(value, factory_models):
    import pnetc
    from pnetc.errors import PnetcError

    for call in (pnetc.run, pnetc.bench):
        with pytest.raises(PnetcError, match="must be a positive, finite number of seconds"):
            call(str(factory_models["dense"]), "mps2-an386", data=str(factory_models["dense_npz"]), timeout=value,
                 progress=False)


def test_execute_refuses_a_nan_timeout(tmp_path):
    from pnetc.errors import PnetcError
    from pnetc.targets.run import execute

    with pytest.raises(PnetcError, match="positive, finite"):
        execute(["true"], tmp_path, n_samples=0, timeout_s=float("nan"))
