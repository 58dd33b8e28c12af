"""pnetc: train ProjectionNet models and compile them to bit-exact C99.

The Python API (docs/api.md) mirrors the command line:

    import pnetc
    trained = pnetc.train("digits", out="runs/digits")
    pnetc.compile(trained, "out/model")
    report = pnetc.run(trained, board="mps2-an386")

Everything is loaded on first use, so `import pnetc` stays fast and does not import torch
(only `pnetc.train` and `pnetc.sweep` need it).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from pnetc.errors import PnetcError

__version__ = "0.1.0"

_API_NAMES = (
    "train", "load", "compile", "verify", "build", "run", "bench", "sweep",
    "Model", "TrainResult", "CompileResult", "VerifyResult", "BuildResult", "RunResult", "BenchResult",
    "SweepResult",
)
__all__ = ["PnetcError", "__version__", *_API_NAMES]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from pnetc.api import (  # noqa: F401
        BenchResult, BuildResult, CompileResult, Model, RunResult, SweepResult, TrainResult, VerifyResult, bench,
        build, compile, load, run, sweep, train, verify,
    )


def __getattr__(name: str):
    if name in _API_NAMES:
        from pnetc import api

        return getattr(api, name)
    raise AttributeError(f"module 'pnetc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API_NAMES))


class _Package(types.ModuleType):
    """`pnetc.train`, `pnetc.verify` and `pnetc.bench` are API functions, but also the names of
    subpackages (pnetc/train/, pnetc/verify.py, pnetc/bench/). Importing a submodule binds it on
    the package; these properties keep the API function visible and leave the submodules to
    `import pnetc.train.loop`-style imports (which go through sys.modules)."""

    def _api_function(name: str):  # noqa: N805  (a property factory, run at class creation)
        def get(self):
            from pnetc import api

            return getattr(api, name)

        def set_(self, value):
            if not isinstance(value, types.ModuleType):
                raise AttributeError(f"pnetc.{name} is the API function and cannot be replaced")
            # a submodule being bound by the import system: it stays reachable in sys.modules

        return property(get, set_)

    train = _api_function("train")
    verify = _api_function("verify")
    bench = _api_function("bench")
    del _api_function


sys.modules[__name__].__class__ = _Package
