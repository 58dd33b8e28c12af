"""The compile stage: ONNX -> IR -> passes -> C files (contract in docs/architecture.md).

`compile_model` writes <name>.h, <name>.c, <name>_weights.c (+ a private
<name>_weights.h), the runtime kernels the model calls (runtime/*.c and pnet/pnet.h),
<name>.mk and CMakeLists.txt. Files go to a temporary sibling directory and are swapped into
`out_dir` only when everything is written (pnetc/outdir.py): a failure never leaves half a
directory, and files pnetc did not write are never replaced or deleted.
"""

from __future__ import annotations

import keyword
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.graph import Graph, check_modes
from pnetc.ir.interpret import Reference
from pnetc.ir.levels import level_warnings

C_KEYWORDS = set(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "main".split()
)


@dataclass
class CompiledModel:
    name: str
    out_dir: Path
    sources: list[Path]  # every .c to build (model, weights and runtime kernels)
    include_dirs: list[Path]
    header: Path
    input_kind: str  # "dense" | "text"
    input_size: int
    input_dtype: str  # what the C takes per element: "uint8" | "int8" | "float32" | "bytes" (text)
    num_classes: int
    num_bits: int
    score_dtype: str  # "int8" | "float32"
    arena_bytes: int
    weight_bytes: int
    reference: Reference
    graph: Graph = field(repr=False, default=None)
    num_stages: int = 0
    needs_libm: bool = False
    labels: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict, repr=False)  # relative path -> text
    warnings: list[str] = field(default_factory=list)  # int8 level warnings (pnetc.ir.levels), one line each


# Target names CMake keeps for itself (cmGlobalGenerator::IsReservedTarget, CTest, CPack), refused in
# any case: the generated CMakeLists.txt calls add_library(NAME), which fails for these.
CMAKE_RESERVED = {n.lower() for n in (
    "all", "ALL_BUILD", "help", "install", "INSTALL", "preinstall", "clean", "edit_cache", "rebuild_cache",
    "ZERO_CHECK", "list_install_components", "test", "RUN_TESTS", "package", "PACKAGE", "package_source")}
CTEST_DASHBOARD = re.compile(r"(Nightly|Experimental|Continuous)[A-Za-z]*")


def check_name(name: str) -> str:
    """--name becomes C identifiers (NAME_predict), macros (NAME_H, NAME_ARENA_BYTES), make variables
    (NAME_SRCS) and a CMake target: refuse what is not an identifier or collides in any of them."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,40}", name or ""):
        why = "starts with '_' (C reserves such names: _NAME_H)" if (name or "").startswith("_") else \
            "must be a C identifier of at most 41 characters (a letter, then letters, digits, _)"
        raise PnetcError(f"--name {name!r} {why}; choose another name")
    if name in C_KEYWORDS or keyword.iskeyword(name):
        raise PnetcError(f"--name {name!r} is a C or Python keyword; choose another name")
    upper = name.upper()
    if upper in ("PNET", "PNETC") or upper.startswith(("PNET_", "PNETC_")):
        raise PnetcError(f"--name {name!r} clashes with the runtime's pnet_/PNET_ names (e.g. the include "
                         "guard PNET_PNET_H); choose a name that does not start with pnet")
    if name.lower() in CMAKE_RESERVED or CTEST_DASHBOARD.fullmatch(name):
        raise PnetcError(f"--name {name!r} is a target name CMake reserves for itself; choose another name")
    return name


# Calibration needs a few hundred samples; a 4.6 MB .npz can declare 1 GiB of them, which the
# float interpreter then ran through for minutes with gigabytes of memory.
MAX_CALIB_BYTES = 1 << 26  # the .npz's arrays once uncompressed (as the zip headers declare them)
MAX_CALIB_SAMPLES = 1 << 16


def _check_calibration_size(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise PnetcError(f"cannot read calibration file {path} as .npz ({exc})") from None
    if declared > MAX_CALIB_BYTES:
        raise PnetcError(f"calibration file {path} holds {declared:,} bytes once uncompressed; calibration needs a "
                         f"few hundred samples and reads at most {MAX_CALIB_BYTES:,} bytes")


def load_calibration(calib) -> Optional[object]:
    """--calib FILE: an .npz whose array `x` (or its only array) holds sample inputs."""
    if calib is None or not isinstance(calib, (str, os.PathLike)):
        return calib
    path = Path(calib)
    if not path.is_file():
        raise PnetcError(f"calibration file {path} does not exist")
    _check_calibration_size(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = list(npz.keys())
            key = "x" if "x" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise PnetcError(f"calibration file {path} must hold an array named 'x'")
            x = npz[key]
    except PnetcError:
        raise
    except Exception as exc:
        raise PnetcError(f"cannot read calibration file {path} as .npz ({exc})") from None
    if x.ndim and len(x) > MAX_CALIB_SAMPLES:
        raise PnetcError(f"calibration file {path} holds {len(x):,} samples; at most {MAX_CALIB_SAMPLES:,} "
                         "(a few hundred are enough)")
    if x.dtype.kind in "SU":
        return [s.encode() if isinstance(s, str) else bytes(s) for s in x.tolist()]
    if x.size == 0:
        raise PnetcError(f"calibration file {path} holds no samples")
    if x.dtype.kind not in "biuf":
        raise PnetcError(f"calibration file {path} holds {x.dtype} values; it needs numbers (or strings for text)")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise PnetcError(f"calibration file {path} holds NaN or infinite values")
    return x


def build_graph(model_path, *, precision: str = "int8", projection: str = "hash", calib=None,
                output: Optional[str] = None) -> Graph:
    """output: the graph output that holds the class scores, for a model with several
    (default: chosen by pnetc.frontend.outputs)."""
    from pnetc.frontend import load_model
    from pnetc.ir.passes import run_passes

    check_modes(precision, projection)
    graph = load_model(model_path, output)
    return run_passes(graph, precision=precision, projection=projection, calib=load_calibration(calib))


def render_files(graph: Graph, name: str, options: dict) -> tuple[dict[str, str], dict]:
    """All output files as relative path -> text, plus the template context."""
    from pnetc.codegen.context import build_context
    from pnetc.codegen.render import RUNTIME_HEADERS, kernel_files, render, runtime_path

    ctx = build_context(graph, name=name, options=options)
    if ctx["bits_var"]:
        bits_buf = graph.projection.outputs[0]
        ctx["bits_offset"] = graph.plan.buffers[bits_buf].offset
    files = {
        f"{name}.h": render("model.h.j2", ctx),
        f"{name}_weights.h": render("model_weights.h.j2", ctx),
        f"{name}.c": render("model.c.j2", ctx),
        f"{name}_weights.c": render("weights.c.j2", ctx),
    }
    kernels = kernel_files(files[f"{name}.c"])
    for k in kernels:
        files[f"runtime/{k}"] = runtime_path("src", k).read_text()
    for header in RUNTIME_HEADERS:
        files[header] = runtime_path("include", header).read_text()
    ctx["sources"] = [f"{name}.c", f"{name}_weights.c"] + [f"runtime/{k}" for k in kernels]
    files[f"{name}.mk"] = render("model.mk.j2", ctx)
    files["CMakeLists.txt"] = render("CMakeLists.txt.j2", ctx)
    return files, ctx


def _write_atomically(files: dict[str, str], out_dir: Path, *, force: bool = False) -> None:
    """Write the files as one transaction (pnetc/outdir.py): all of them or none, never over yours."""
    from pnetc import outdir

    with outdir.transaction(out_dir, command="compile", force=force, check_first=False) as staged:
        try:
            for rel, text in files.items():
                p = staged.path / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
        except OSError as exc:
            raise PnetcError(f"cannot write the output directory {staged.target} ({exc.strerror or exc}); "
                             "check the disk space and permissions") from None


def compile_model(model_path, out_dir, *, name: str = "model", precision: str = "int8", projection: str = "hash",
                  calib=None, package: Optional[str] = None, force: bool = False,
                  check: Optional[Callable[[CompiledModel], None]] = None, output: Optional[str] = None) -> CompiledModel:
    """`package` ("cmake" | "zephyr" | "arduino", docs/packages.md) lays the files out as that package.

    `check(compiled)` runs before any file is written (e.g. a board's fit check): raising there
    leaves out_dir as it was. `force`: write into a folder that holds other files (never over them)."""
    from pnetc.codegen.packages import check_package, package_files

    check_name(name)
    check_package(package)
    samples = load_calibration(calib)
    graph = build_graph(model_path, precision=precision, projection=projection, calib=samples, output=output)
    options = {"name": name, "precision": precision, "projection": projection,
               "calib": Path(calib).name if isinstance(calib, (str, os.PathLike)) else ("samples" if calib is not None else "metadata")}
    if graph.precision == "float32":
        options["calib"] = "none"
    if package is not None:
        options["package"] = package
    files, ctx = render_files(graph, name, options)
    sources, include_dirs, header = ctx["sources"], ["."], f"{name}.h"
    if package is not None:
        layout = package_files(files, ctx, package, Reference(graph))
        files, sources, include_dirs, header = layout.files, layout.sources, layout.include_dirs, layout.header
    out_dir = Path(out_dir).resolve()
    compiled = CompiledModel(
        name=name, out_dir=out_dir, sources=[out_dir / s for s in sources],
        include_dirs=[(out_dir / d).resolve() for d in include_dirs], header=out_dir / header,
        input_kind=graph.input_kind, input_size=graph.input_size, input_dtype=Reference(graph).device_input_dtype,
        num_classes=graph.num_classes, num_bits=graph.num_bits,
        score_dtype="float32" if graph.precision == "float32" else "int8",
        arena_bytes=graph.plan.arena_bytes, weight_bytes=ctx["weight_bytes"], reference=Reference(graph),
        graph=graph, num_stages=ctx["num_stages"], needs_libm=ctx["needs_libm"], labels=list(graph.info.labels),
        files=files, warnings=level_warnings(graph, samples),
    )
    if check is not None:
        check(compiled)
    _write_atomically(files, out_dir, force=force)
    return compiled
