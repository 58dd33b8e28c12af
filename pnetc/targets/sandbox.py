"""Confinement for every program built from a model: firmware under qemu-system (semihosting
gives it the file system QEMU sees), Linux executables under qemu-user (host system calls) and
native host executables.

Each one runs under bubblewrap (bwrap): a fresh mount namespace that shows only the read-only
system folders needed to execute (/usr and the merged-usr links), the files named as readable
(the ELF, the QEMU plugin), and ONE writable folder, the run's own work folder. No network, no
other processes, no capabilities, an empty environment. When the sandbox is missing or cannot
start, the run is refused; PNETC_NO_SANDBOX=1 runs unconfined (with a warning), for machines
where user namespaces are off and the models are trusted.

Every start is in its own session, so `stop()` kills the whole process group; bwrap's
--die-with-parent kills the sandbox if pnetc itself dies.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional, Sequence

from pnetc.errors import PnetcError

OPT_OUT_VARIABLE = "PNETC_NO_SANDBOX"
INSTALL_HINT = "apt-get install --no-install-recommends bubblewrap"
SYSTEM_DIR = "/usr"
# merged-usr links (/lib -> usr/lib ...) or, on older systems, real folders bound read-only
ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"

_warned = False
_probe_error: Optional[str] = None
_probed = False


def opted_out() -> bool:
    """True when PNETC_NO_SANDBOX is set (to anything but empty or 0); warns once per process."""
    global _warned
    if os.environ.get(OPT_OUT_VARIABLE, "") in ("", "0"):
        return False
    if not _warned:
        _warned = True
        sys.stderr.write(f"pnetc: warning: {OPT_OUT_VARIABLE} is set: model code runs UNCONFINED, with "
                         f"your access to every file and the network; only do this with models you trust\n")
        sys.stderr.flush()
    return True


def _system_args() -> list[str]:
    args = ["--ro-bind", SYSTEM_DIR, SYSTEM_DIR]
    for path in ROOT_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    # the dynamic loader's cache: libraries outside its default folders still resolve
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _isolation_args() -> list[str]:
    return ["--dev", "/dev", "--proc", "/proc", "--unshare-all", "--cap-drop", "ALL",
            "--die-with-parent", "--new-session"]


def _bind_both(option: str, path: Path) -> list[str]:
    """Bind a path where the command names it and where it really is (they differ through links)."""
    named, real = os.path.abspath(path), os.path.realpath(path)
    args = [option, real, named]
    if real != named:
        args += [option, real, real]
    return args


def require() -> None:
    """Refuse, with the fix, when the sandbox cannot run (checked once per process)."""
    global _probed, _probe_error
    if not _probed:
        _probed = True
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            _probe_error = (f"running model code needs the bubblewrap sandbox, which is not installed: "
                            f"{INSTALL_HINT} (or set {OPT_OUT_VARIABLE}=1 to run unconfined, only for trusted models)")
        else:
            true = shutil.which("true") or "/usr/bin/true"
            cmd = [bwrap, *_system_args(), *_isolation_args(), "--remount-ro", "/", os.path.realpath(true)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
                failed = proc.returncode != 0
                why = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[0]
            except (OSError, subprocess.TimeoutExpired) as exc:
                failed, why = True, str(exc)
            if failed:
                _probe_error = (f"the bubblewrap sandbox cannot start here ({why}); it needs user namespaces "
                                f"or root: fix that ({INSTALL_HINT}), or set {OPT_OUT_VARIABLE}=1 to run "
                                f"unconfined, only for trusted models")
    if _probe_error is not None:
        raise PnetcError(_probe_error)


def confine(cmd: Sequence[str], *, writable: Optional[Path], readable: Sequence[Path] = (),
            env: Optional[Mapping[str, str]] = None) -> list[str]:
    """The bwrap command line that runs `cmd` with only `writable` (its working folder) writable and
    `readable` visible; `env` is its whole environment besides PATH."""
    require()
    program = shutil.which(cmd[0]) or cmd[0]
    program = os.path.realpath(program)
    args = [shutil.which("bwrap") or "bwrap", *_system_args()]
    for path in [Path(program), *readable]:
        if not os.path.realpath(path).startswith(SYSTEM_DIR + "/"):
            args += _bind_both("--ro-bind", Path(path))
    if writable is not None:
        args += _bind_both("--bind", writable)
    args += _isolation_args()
    args += ["--remount-ro", "/", "--chdir", os.path.abspath(writable) if writable is not None else "/"]
    args += ["--clearenv", "--setenv", "PATH", SANDBOX_PATH]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    return [*args, "--", program, *cmd[1:]]


def start(cmd: Sequence[str], *, writable: Optional[Path], readable: Sequence[Path] = (),
          env: Optional[Mapping[str, str]] = None, **popen_args) -> subprocess.Popen:
    """Popen the confined command in its own session (stop() kills its whole process group)."""
    confined = not opted_out()
    if confined:
        full, full_env = confine(cmd, writable=writable, readable=readable, env=env), None
    else:
        full, full_env = list(cmd), {**os.environ, **(env or {})}
    proc = subprocess.Popen(full, cwd=writable, env=full_env, start_new_session=True, **popen_args)
    proc.confined = confined
    return proc


def stop(proc: subprocess.Popen) -> None:
    """Kill the process group if it still runs (a timeout, an error, a signal to pnetc) and reap it.
    Afterwards proc.returncode reads as if unconfined: negative for a death by signal (bwrap
    reports signal N as exit code 128 + N)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    if getattr(proc, "confined", False) and 128 < proc.returncode < 128 + signal.NSIG:
        proc.returncode = 128 - proc.returncode


def run(cmd: Sequence[str], *, writable: Optional[Path] = None, readable: Sequence[Path] = (),
        input: bytes = b"", env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """Run the confined command to the end with `input` on stdin; stdout and stderr as bytes."""
    proc = start(cmd, writable=writable, readable=readable, env=env,
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(input)
    finally:
        stop(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def read_result(path: Path) -> Optional[str]:
    """Text of a file the confined program wrote, None if absent. Only a regular file is read: a link
    it planted is not followed, a FIFO or device it made does not block or stream forever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PnetcError(f"{path.name} in the run folder is not a regular file the firmware wrote ({exc.strerror})")
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PnetcError(f"{path.name} in the run folder is not a regular file the firmware wrote")
        return f.read().decode(errors="replace")


def fresh(path: Path) -> Path:
    """Remove whatever sits at `path` (a link a previous run planted included), so writing follows no link."""
    if path.is_symlink() or path.exists():
        path.unlink()
    return path
