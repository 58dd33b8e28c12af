"""Output folders: pnetc writes only its own files and never loses one of yours.

Every command that writes a folder goes through this module (docs/hardening.md, "Output folders").

* `.pnetc-manifest.json` in the folder lists every file pnetc wrote there: its path, sha256 and the
  command that wrote it. A file is this command's to replace or delete only when the manifest lists
  it for the same command with the same bytes. Anything else (a file you added, a generated file you
  edited, another command's output) is yours: never deleted, never overwritten.
* A folder holding any file that is not this command's is refused (PnetcError) unless `force`;
  even then pnetc only writes beside those files and refuses to replace one of them.
* `transaction` (compile, build, run -o, verify --keep, bench, demo): the command writes into a
  temporary folder beside the target; only when it succeeds are its files swapped in (the previous
  output moved aside first, and put back if anything fails). A refused or failed command leaves the
  folder exactly as it was.
* `workspace` (train, sweep): files appear over time (a checkpoint per epoch), each written to a
  temporary name and renamed into place; the folder is locked (flock) for the whole run, so a second
  command refuses instead of overwriting the first one's files.
* A command opened inside another one's temporary folder or workspace (demo -> train/compile/build,
  build -> compile, sweep -> train) writes there directly: the outer command owns the folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from pnetc.errors import PnetcError

MANIFEST = ".pnetc-manifest.json"
FORMAT = 1
NOT_PNETC = "not written by pnetc"
EDITED = "edited since pnetc wrote it"
_NAMED = 3  # files a refusal names before "and N more"

# (root, its Staged or Workspace) of the commands running in this process
_open: list[tuple[Path, object]] = []
_open_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(root: Path) -> dict[str, dict]:
    """relative path -> {"sha256", "command"}. A missing or damaged manifest owns nothing."""
    try:
        data = json.loads((root / MANIFEST).read_text())
        files = data["files"]
        return {str(rel): {"sha256": str(e["sha256"]), "command": str(e["command"])} for rel, e in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _temp_file(folder: Path, name: str) -> Path:
    """A new empty file beside `name` in folder, with the permissions a plain open() would give it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name.lstrip('.')}.", suffix=".tmp", dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def _write_manifest(root: Path, entries: dict[str, dict]) -> None:
    text = json.dumps({"format": FORMAT, "written_by": "pnetc", "files": dict(sorted(entries.items()))},
                      indent=1, sort_keys=True) + "\n"
    tmp = _temp_file(root, MANIFEST)
    try:
        tmp.write_text(text)
        os.replace(tmp, root / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _entries(root: Path) -> list[str]:
    """Every non-directory entry below root (symlinks included, never followed), relative, posix."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():  # a link to a folder is one of your files, not a place to write
                dirnames.remove(d)
                filenames.append(d)
        for name in filenames:
            rel = (here / name).relative_to(root).as_posix()
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


@dataclass
class Scan:
    """A folder's files as one command sees them."""

    ours: set[str] = field(default_factory=set)          # this command's, unchanged since written
    theirs: dict[str, str] = field(default_factory=dict)  # everything else -> why it is not ours
    manifest: dict[str, dict] = field(default_factory=dict)


def scan(root: Path, command: str) -> Scan:
    found = Scan(manifest=read_manifest(root))
    for rel in _entries(root):
        entry, path = found.manifest.get(rel), root / rel
        if entry is None:
            found.theirs[rel] = NOT_PNETC
        elif path.is_symlink() or not path.is_file() or sha256_file(path) != entry["sha256"]:
            found.theirs[rel] = EDITED
        elif entry["command"] != command:
            found.theirs[rel] = f"written by pnetc {entry['command']}"
        else:
            found.ours.add(rel)
    return found


def _listing(theirs: dict[str, str]) -> str:
    names = [f"{rel} ({why})" for rel, why in sorted(theirs.items())]
    more = len(names) - _NAMED
    return ", ".join(names[:_NAMED]) + (f" and {more} more" if more > 0 else "")


def refuse_foreign(root: Path, found: Scan, force: bool) -> None:
    """One line when the folder holds files that are not this command's, unless force."""
    if found.theirs and not force:
        what = ("is not a pnetc output" if set(found.theirs.values()) == {NOT_PNETC}
                else "holds files that are not this command's output")
        if not found.manifest and _older_pnetc_output(root):
            what += " (an older pnetc wrote it without a list of its files, so it cannot tell them from yours)"
        raise PnetcError(f"output directory {root} {what}: it holds {_listing(found.theirs)}; choose a new or "
                         f"empty directory, or pass --force to write beside them (pnetc never deletes or "
                         f"overwrites them)")


def _older_pnetc_output(root: Path) -> bool:
    for marker in ("CMakeLists.txt", "library.properties", "model/CMakeLists.txt"):
        try:
            with open(root / marker, errors="replace") as f:
                if f.read(64).startswith("# Generated by pnetc"):
                    return True
        except OSError:
            pass
    return False


def refuse_conflicts(root: Path, found: Scan, rels) -> None:
    """One line when writing `rels` would replace one of your files (even with --force)."""
    for rel in sorted(rels):
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            hit = "/".join(parts[:i])
            if hit in found.theirs:
                raise PnetcError(f"{root / hit} is {found.theirs[hit]}; pnetc will not overwrite it: move it out "
                                 f"of {root} or choose another directory")
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            raise PnetcError(f"{path} is a directory that pnetc did not write; pnetc needs a file there: move it "
                             f"out of {root} or choose another directory")


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP back for a few renames, so a file and its manifest entry agree."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _locked(root: Path, flag: str) -> Iterator[None]:
    """flock on the folder itself (no lock file): one writing command per folder at a time."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PnetcError(f"another pnetc command is writing {root} right now; wait for it to finish or "
                             f"choose another {flag}") from None
        yield
    finally:
        os.close(fd)


def _cannot_create(target: Path, flag: str, exc: OSError) -> PnetcError:
    blocker = next((p for p in target.parents if p.exists()), None)
    why = f"{blocker} is a file" if blocker is not None and not blocker.is_dir() else (exc.strerror or str(exc))
    return PnetcError(f"cannot create the output directory {target} ({why}); pass {flag} a directory in a place "
                      f"you can write to")


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise PnetcError(f"output path {target} exists and is not a directory")


def _enclosing(target: Path):
    """The open command folder that contains target, if any: (root, its Staged or Workspace)."""
    with _open_lock:
        for root, ws in reversed(_open):
            if target == root or root in target.parents:
                return root, ws
    return None


@contextmanager
def _registered(root: Path, ws) -> Iterator[None]:
    item = (root, ws)
    with _open_lock:
        _open.append(item)
    try:
        yield
    finally:
        with _open_lock:
            _open.remove(item)


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def _prune(root: Path, rels) -> None:
    """Remove folders that removing `rels` left empty (never root itself, never a non-empty folder)."""
    for rel in sorted(rels, key=lambda r: -r.count("/")):
        parent = (root / rel).parent
        while parent != root and root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def note(line: str) -> None:
    print(f"pnetc: note: {line}", file=sys.stderr, flush=True)


# ---- transactions (compile, build, run -o, verify --keep, bench, demo) -------------------------


@dataclass(frozen=True)
class Staged:
    """Where a transaction writes (`path`) and where the files end up (`target`)."""

    path: Path
    target: Path

    def final(self, p) -> Path:
        """The path a file written at `p` (below `path`) will have after the swap."""
        p = Path(p)
        try:
            return self.target / p.relative_to(self.path)
        except ValueError:
            return p


@contextmanager
def transaction(target, *, command: str, force: bool = False, flag: str = "-o",
                check_first: bool = True) -> Iterator[Staged]:
    """Write a command's whole output into a temporary folder, then swap it into `target`.

    `check_first`: refuse a folder of other files before the work starts (it is always checked again,
    under the lock, before anything is swapped)."""
    target = Path(target).resolve()
    outer = _enclosing(target)
    if outer is not None:  # inside another command's folder: it owns what we write
        target.mkdir(parents=True, exist_ok=True)
        yield Staged(target, outer[1].final(target) if isinstance(outer[1], Staged) else target)
        return
    _check_target(target)
    if check_first and target.is_dir():
        refuse_foreign(target, scan(target, command), force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise _cannot_create(target, flag, exc) from None
    try:
        staged = Staged(stage, target)
        with _registered(stage, staged):
            yield staged
        _commit(stage, target, command, force, flag)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def kept(target, work, *, command: str, force: bool = False, keep_on: tuple = ()):
    """work(folder) inside a transaction into `target`, or work(None) when target is None. An
    exception of a type in keep_on still keeps the files (they are what explains it), then rises."""
    if target is None:
        return work(None)
    failure = None
    with transaction(target, command=command, force=force) as staged:
        try:
            value = work(staged.path)
        except keep_on as exc:
            failure = exc
    if failure is not None:
        raise failure
    return value


def _commit(stage: Path, target: Path, command: str, force: bool, flag: str) -> None:
    new = {rel: sha256_file(stage / rel) for rel in _entries(stage) if (stage / rel).is_file()}
    created = not target.exists()
    try:
        target.mkdir(exist_ok=True)
    except OSError as exc:
        raise _cannot_create(target, flag, exc) from None
    try:
        with signals_deferred(), _locked(target, flag):
            found = scan(target, command)
            refuse_foreign(target, found, force)
            refuse_conflicts(target, found, new)
            _swap(stage, target, command, found, new)
    except BaseException:
        if created and not _entries(target):
            shutil.rmtree(target, ignore_errors=True)
        raise
    for rel, why in sorted(found.theirs.items()):
        if why == EDITED and found.manifest.get(rel, {}).get("command") == command and rel not in new:
            note(f"kept {target / rel}: {EDITED}, so it is yours now")


def _swap(stage: Path, target: Path, command: str, found: Scan, new: dict[str, str]) -> None:
    backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        for rel in sorted(found.ours):
            _move(target / rel, backup / rel)
            moved_old.append(rel)
        for rel in sorted(new):
            _move(stage / rel, target / rel)
            moved_new.append(rel)
        # other commands' files stay listed (and theirs); this command's edited files become yours
        kept = {rel: e for rel, e in found.manifest.items()
                if rel in found.theirs and found.theirs[rel].startswith("written by pnetc ")}
        _write_manifest(target, {**kept, **{rel: {"sha256": h, "command": command} for rel, h in new.items()}})
    except BaseException:
        for rel in reversed(moved_new):
            _move(target / rel, stage / rel)
        for rel in reversed(moved_old):
            _move(backup / rel, target / rel)
        _prune(target, moved_new)
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)
    _prune(target, found.ours - set(new))


# ---- workspaces (train, sweep) -----------------------------------------------------------------


class Workspace:
    """A folder a long command fills over time. Every write goes through `writing`, every removal
    through `remove`, so the manifest always says which files are pnetc's."""

    def __init__(self, root: Path, command: str, *, found: Optional[Scan] = None,
                 parent: Optional["Workspace"] = None, prefix: str = ""):
        self.root, self.command, self._parent, self._prefix = root, command, parent, prefix
        self._private = found is None and parent is None  # inside a transaction's temporary folder
        self._found = found

    # what is in the folder
    def owns(self, rel: str) -> bool:
        if self._parent is not None:
            return self._parent.owns(self._prefix + rel)
        if self._private:
            return (self.root / rel).is_file()
        return rel in self._found.ours

    def theirs(self) -> dict[str, str]:
        """Files below this folder that are not this command's -> why."""
        if self._parent is not None:
            n = len(self._prefix)
            return {r[n:]: why for r, why in self._parent.theirs().items() if r.startswith(self._prefix)}
        return {} if self._private else dict(self._found.theirs)

    def refuse_conflicts(self, rels) -> None:
        refuse_conflicts(self.root, Scan(theirs=self.theirs()), rels)

    # changing it
    @contextmanager
    def writing(self, rel: str) -> Iterator[Path]:
        """Yield a temporary path beside DIR/rel; when the block succeeds it replaces DIR/rel.
        An interrupted write leaves nothing behind and the previous file intact."""
        self.refuse_conflicts([rel])
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_file(final.parent, final.name)
        try:
            yield Path(tmp)
            digest = sha256_file(Path(tmp))
            with signals_deferred():
                os.replace(tmp, final)
                self._record(rel, digest)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def write_text(self, rel: str, text: str) -> Path:
        with self.writing(rel) as tmp:
            tmp.write_text(text)
        return self.root / rel

    def remove(self, rel: str) -> None:
        """Delete DIR/rel if it is this command's (unchanged) file; leave anything else alone."""
        if self.owns(rel):
            with signals_deferred():
                (self.root / rel).unlink()
                self._record(rel, None)
            _prune(self.root, [rel])

    def _record(self, rel: str, digest: Optional[str]) -> None:
        if self._parent is not None:
            self._parent._record(self._prefix + rel, digest)
            return
        if self._private:
            return
        manifest, found = self._found.manifest, self._found
        if digest is None:
            manifest.pop(rel, None)
            found.ours.discard(rel)
        else:
            manifest[rel] = {"sha256": digest, "command": self.command}
            found.ours.add(rel)
        found.theirs.pop(rel, None)
        _write_manifest(self.root, {r: e for r, e in manifest.items()
                                    if r in found.ours or found.theirs.get(r, "").startswith("written by pnetc ")})


@contextmanager
def workspace(target, *, command: str, force: bool = False, flag: str = "--out") -> Iterator[Workspace]:
    """Open `target` for a command that writes files over time; refuse a folder of other files
    unless force, and refuse while another command writes there (the lock is held until the end)."""
    target = Path(target).resolve()
    _check_target(target)
    outer = _enclosing(target)
    if outer is not None:
        root, ws = outer
        target.mkdir(parents=True, exist_ok=True)
        if not isinstance(ws, Workspace):
            yield Workspace(target, command)
        else:
            yield Workspace(target, command, parent=ws, prefix=target.relative_to(root).as_posix() + "/")
        return
    created = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_create(target, flag, exc) from None
    try:
        with _locked(target, flag):
            found = scan(target, command)
            refuse_foreign(target, found, force)
            ws = Workspace(target, command, found=found)
            with _registered(target, ws):
                yield ws
    except BaseException:
        if created and not _entries(target):
            shutil.rmtree(target, ignore_errors=True)
        raise


@contextmanager
def scratch(prefix: str) -> Iterator[Staged]:
    """A temporary folder removed at the end; commands opened inside write there directly."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        staged = Staged(Path(tmp).resolve(), Path(tmp).resolve())
        with _registered(staged.path, staged):
            yield staged


# ---- single pictures the user names (--plot FILE.png) -------------------------------------------

PNG_SOFTWARE = "pnetc"  # the PNG's "Software" text: marks a picture pnetc drew


def _drawn_by_pnetc(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)  # text chunks sit before the image data
    return head.startswith(b"\x89PNG") and b"tEXtSoftware\x00" + PNG_SOFTWARE.encode() in head


def write_png(fig, path, flag: str = "--plot", dpi: int = 100) -> Path:
    """Save a matplotlib figure where the user asked. A file there that pnetc did not draw is
    refused (never overwritten); the picture is drawn beside it and swapped in, so a failed draw
    leaves the previous one as it was."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise PnetcError(f"{flag} {path}: the plot is a PNG; name the file *.png")
    if path.is_dir():
        raise PnetcError(f"{flag} {path} is a directory; name a .png file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PnetcError(f"{flag} {path}: the folder {folder} does not exist")
    if path.exists() and not _drawn_by_pnetc(path):
        raise PnetcError(f"{flag} {path}: that file exists and pnetc did not draw it; name another file")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": PNG_SOFTWARE})
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
