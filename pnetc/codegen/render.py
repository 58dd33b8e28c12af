"""Render the templates and collect the runtime kernels a model calls.

One Jinja environment renders every generated file (model, packages, firmware, linker scripts); its
`finalize` (escape.py) refuses any `{{ }}` string that is not a number, a C identifier or text an
escaping filter made, so names from a model reach a file only through c_comment / c_string."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pnetc.codegen import escape
from pnetc.codegen.literals import c_float, c_uint, c_values, hex_address
from pnetc.resources import data_dir

# copied next to every generated model: the public header and the kernels' shared helpers
RUNTIME_HEADERS = ("pnet/pnet.h", "pnet/pnet_support.h")
_CALL = re.compile(r"\bpnet_(\w+)\s*\(")
_DEFINITION = re.compile(r"^[A-Za-z_][^;\n]*?\bpnet_(\w+)\s*\([^;]*?$", re.MULTILINE)


@lru_cache(maxsize=1)
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=escape.finalize,
    )
    env.filters.update(c_values=c_values, c_float=c_float, c_uint=c_uint, hex_address=hex_address,
                       c_comment=escape.c_comment, c_string=escape.c_string, word=escape.word)
    return env


def render(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context)


@lru_cache(maxsize=1)
def _kernel_index() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """function name -> defining file, and file -> the pnet_ functions it calls."""
    defined: dict[str, str] = {}
    calls: dict[str, frozenset[str]] = {}
    for path in sorted((data_dir("runtime") / "src").glob("*.c")):
        text = path.read_text()
        for name in _DEFINITION.findall(text):
            defined.setdefault(name, path.name)
        calls[path.name] = frozenset(_CALL.findall(text))
    return defined, calls


def kernel_files(generated_c: str) -> list[str]:
    """The runtime/src files the generated code needs (transitively), sorted."""
    defined, calls = _kernel_index()
    todo = [n for n in _CALL.findall(generated_c) if n in defined]
    files: set[str] = set()
    while todo:
        f = defined[todo.pop()]
        if f not in files:
            files.add(f)
            todo.extend(n for n in calls[f] if n in defined)
    return sorted(files)


def runtime_path(*parts: str) -> Path:
    return data_dir("runtime").joinpath(*parts)
