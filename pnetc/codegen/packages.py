"""Drop-in packages of the generated library: `pnetc compile ... --package cmake|zephyr|arduino`.

The compiler renders the plain files (<name>.h/.c, weights, runtime kernels); this module
lays them out as a package and adds the package's own files (templates/packages/<kind>/).
The C sources are the same bytes as in the plain output; only their place changes.

Every package has one flat src/ folder (<name>.c, <name>_weights.*, pnet_<kernel>.c, pnet/pnet.h).
  cmake:   CMakeLists.txt (static library <name> + alias pnetc::<name>), include/<name>.h, src/,
           cmake/<board>.cmake toolchain files for the cross-compiled boards (Release, -O2, by
           default), and boards/: the Cortex-M startup, semihosting and a linker script per
           bare-metal board (object library pnetc::board), so a program links from the package alone
  zephyr:  zephyr/module.yml, CMakeLists.txt, Kconfig (CONFIG_PNETC_<NAME>), include/<name>.h, src/
  arduino: library.properties, src/ (with <name>.h),
           examples/<Name>Classify/<Name>Classify.ino
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pnetc.codegen.escape import Fragment, c_string, flags, word
from pnetc.codegen.render import RUNTIME_HEADERS
from pnetc.errors import PnetcError

PACKAGES = ("cmake", "zephyr", "arduino")

# library.properties needs a page for people to visit; pnetc's own is the honest default.
PROJECT_URL = "https://pypi.org/project/pnetc/"
EXAMPLE_TEXT = b"The quick brown fox jumps over the lazy dog."


@dataclass
class Layout:
    files: dict[str, str]    # relative path -> text
    sources: list[str]       # the .c files to build, relative
    include_dirs: list[str]  # what a user of the library puts on the include path, relative
    header: str              # <name>.h, relative


def check_package(package):
    if package is not None and package not in PACKAGES:
        raise PnetcError(f"unknown package {package!r}; choose one of {', '.join(PACKAGES)} "
                         "(or leave --package out for the plain files)")
    return package


def camel_case(name: str) -> str:
    """digits_v2 -> DigitsV2 (example sketch names)."""
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p) or "Model"


def example_sample(ctx: dict, reference) -> dict:
    """A fixed sample for the example sketch, with the class pnetc's reference gives it.

    Dense models get 0..255 pseudo-random values (seed 0) in their input type; text models a
    sentence. The sketch prints the class and whether it equals the reference's."""
    if ctx["input_kind"] == "text":
        out = reference.run([EXAMPLE_TEXT])
        c_input, literal = None, c_string(EXAMPLE_TEXT)
    else:
        raw = np.random.default_rng(0).integers(0, 256, ctx["input_size"])
        dtype = reference.graph.tensors[reference.graph.input].dtype
        x = (raw - 128 if dtype == "int8" else raw).astype(np.float32 if dtype == "float32" else dtype)
        out = reference.run(x[None])
        c_input = reference.encode_input(x[None])[0]
        if np.asarray(c_input).dtype.kind == "f":
            literal = ", ".join(f"{float(v):.1f}f" for v in c_input)
        else:
            literal = ", ".join(str(int(v)) for v in c_input)
    return dict(sample_literal=Fragment(literal), expected_class=int(out.predictions[0]))


def linker_script(board, *, unlimited: bool = False) -> str:
    """A bare-metal board's linker script; `unlimited` gives both regions 256 MB to measure an image
    that overflows."""
    from pnetc.codegen.render import render

    big = 256 * 1024 * 1024
    return render(f"linker/{board.linker_template}", dict(
        board=board.name, description=board.description, flash_origin=board.flash_origin,
        flash_size=big if unlimited else board.flash_size, ram_origin=board.ram_origin,
        ram_size=big if unlimited else board.ram_size, stack_size=board.stack_size))


# The board support a bare-metal program needs besides the model: the vector table and reset
# handler, and semihosting for its console and exit code (runtime/, the same files pnetc's own
# firmware builds from). boards/<file> in the package.
BOARD_SUPPORT = {"startup_cortex_m.c": "startup/cortex_m.c", "semihost.c": "semihost/semihost.c",
                 "semihost.h": "semihost/semihost.h", "io_semihost.c": "semihost/io_semihost.c",
                 "pnet_io.h": "semihost/pnet_io.h"}


def _packaged_boards():
    """The cross-compiled boards, and among them those whose program the package can link alone."""
    from pnetc.targets.boards import list_boards

    cross = [b for b in list_boards() if b.toolchain]
    return cross, [b for b in cross if b.bare_metal and b.startup == "cortex-m" and b.linker_template]


def toolchain_files() -> dict[str, str]:
    """cmake/<board>.cmake for every cross-compiled board, with the board file's flags, and the
    board support of the bare-metal ones (boards/)."""
    from pnetc.codegen.render import render
    from pnetc.resources import data_dir

    cross, linkable = _packaged_boards()
    files = {"cmake/pnetc-flags.cmake": render("packages/cmake/flags.cmake.j2", {})}
    for board in cross:
        files[f"cmake/{board.name}.cmake"] = render("packages/cmake/toolchain.cmake.j2", dict(
            board=board.name, description=board.description, prefix=word(board.toolchain),
            system="Generic" if board.bare_metal else "Linux", bare_metal=board.bare_metal,
            processor="aarch64" if board.toolchain.startswith("aarch64") else "arm",
            cflags=flags(board.cflags), ldflags=flags(board.ldflags), linkable=board in linkable))
    if linkable:
        runtime = data_dir("runtime")
        for dest, src in BOARD_SUPPORT.items():
            files[f"boards/{dest}"] = (runtime / src).read_text()
        for board in linkable:
            files[f"boards/{board.name}.ld"] = linker_script(board)
    return files


def _flat_sources(files: dict[str, str], ctx: dict) -> tuple[dict[str, str], list[str]]:
    """One flat src/ folder, so every #include "pnet/pnet.h" resolves next to the including file
    (no -I needed for it); runtime kernels become pnet_<kernel>.c so they cannot clash with <name>.c."""
    out, sources = {}, []
    for rel in ctx["sources"]:
        dest = "src/pnet_" + rel.split("/", 1)[1] if rel.startswith("runtime/") else f"src/{rel}"
        out[dest] = files[rel]
        sources.append(dest)
    for rel in (f"{ctx['name']}_weights.h", *RUNTIME_HEADERS):
        out[f"src/{rel}"] = files[rel]
    return out, sources


def package_files(files: dict[str, str], ctx: dict, package: str, reference) -> Layout:
    """Lay the rendered `files` out as `package`."""
    from pnetc.codegen.render import render

    check_package(package)
    name = ctx["name"]
    pctx = dict(ctx)
    out, sources = _flat_sources(files, ctx)
    if package in ("cmake", "zephyr"):
        # include/<name>.h is the whole public API (self-contained); the rest stays in src/
        out[f"include/{name}.h"] = files[f"{name}.h"]
        pctx.update(package_sources=sources, kconfig_symbol=f"PNETC_{ctx['NAME']}")
        if package == "cmake":
            out["CMakeLists.txt"] = render("packages/cmake/CMakeLists.txt.j2", pctx)
            out.update(toolchain_files())
        else:
            out["zephyr/module.yml"] = render("packages/zephyr/module.yml.j2", pctx)
            out["CMakeLists.txt"] = render("packages/zephyr/CMakeLists.txt.j2", pctx)
            out["Kconfig"] = render("packages/zephyr/Kconfig.j2", pctx)
        return Layout(out, sources, ["include"], f"include/{name}.h")

    # arduino: the header sits in src/ too (the IDE puts src/ on the sketch's include path)
    out[f"src/{name}.h"] = files[f"{name}.h"]
    sketch = camel_case(name) + "Classify"
    pctx.update(sketch=sketch, url=word(PROJECT_URL),
                labels_c=[c_string(label) for label in ctx["labels"]],
                **example_sample(ctx, reference))
    out["library.properties"] = render("packages/arduino/library.properties.j2", pctx)
    out[f"examples/{sketch}/{sketch}.ino"] = render("packages/arduino/Classify.ino.j2", pctx)
    return Layout(out, sources, ["src"], f"src/{name}.h")

