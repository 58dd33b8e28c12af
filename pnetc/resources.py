"""Locate the data folders (templates/, runtime/, boards/) in a source tree or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` ("templates", "runtime" or "boards").

    An installed wheel carries them under pnetc/_data; a source checkout has them
    next to the package.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pnetc data folder {name!r} not found; is the installation complete?")
