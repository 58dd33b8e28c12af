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

from typing import TYPE_CHECKING

from pnetc.errors import PnetcError

__version__ = "0.1.0"

_API_NAMES = (
    "train", "load", "compile", "verify", "build", "run", "bench", "sweep", "eval", "predict",
    "EvalResult", "PredictResult", "Model", "TrainResult", "CompileResult", "VerifyResult", "BuildResult", "RunResult", "BenchResult",
    "SweepResult",
)
__all__ = ["PnetcError", "__version__", *_API_NAMES]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from pnetc.api import (  # noqa: F401
        BenchResult, BuildResult, CompileResult, EvalResult, Model, PredictResult, RunResult, SweepResult,
        TrainResult, VerifyResult, bench, build, compile, eval, load, predict, run, sweep, train, verify,
    )


def __getattr__(name: str):
    if name in _API_NAMES:
        from pnetc import api

        return getattr(api, name)
    raise AttributeError(f"module 'pnetc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API_NAMES))
