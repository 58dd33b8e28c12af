"""The C kernels' signatures, read from the runtime's public header (runtime/include/pnet/pnet.h).

The header is the one statement of each kernel's parameter order and types; the generated calls
take their argument order from here, so a kernel added to the runtime needs no template change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pnetc.errors import PnetcError
from pnetc.resources import data_dir

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_PREPROCESSOR = re.compile(r"^\s*#.*$", re.MULTILINE)
_DECLARATION = re.compile(r"([A-Za-z_][\w ]*?)\s*\b\**\s*pnet_(\w+)\s*\(([^()]*)\)", re.DOTALL)


@dataclass(frozen=True)
class Param:
    name: str
    ctype: str  # the declared type without the name, e.g. "const int8_t *", "uint32_t"

    @property
    def unsigned_scalar(self) -> bool:
        return "*" not in self.ctype and self.ctype.startswith("uint")


@dataclass(frozen=True)
class Signature:
    kernel: str
    returns: str
    params: tuple[Param, ...]

    @property
    def returns_status(self) -> bool:
        """Kernels returning `int` report PNET_OK or an error code the caller must pass on."""
        return self.returns == "int"


def _param(text: str) -> Param:
    m = re.fullmatch(r"(.*?)(\w+)", text.strip(), re.DOTALL)
    return Param(m.group(2), " ".join(m.group(1).split()))


@lru_cache(maxsize=1)
def signatures() -> dict[str, Signature]:
    """kernel name (without pnet_) -> its signature, for every function pnet.h declares."""
    text = _COMMENT.sub(" ", (data_dir("runtime") / "include" / "pnet" / "pnet.h").read_text())
    out = {}
    for statement in _PREPROCESSOR.sub(" ", text).split(";"):
        m = _DECLARATION.fullmatch(re.split(r"[{}]", statement)[-1].strip())
        if m is None:
            continue
        returns, name, params = m.groups()
        plist = () if params.strip() in ("", "void") else tuple(_param(p) for p in params.split(","))
        out[name] = Signature(name, " ".join(returns.split()), plist)
    return out


def signature(kernel: str) -> Signature:
    try:
        return signatures()[kernel]
    except KeyError:
        raise PnetcError(f"kernel 'pnet_{kernel}' is not declared in pnet/pnet.h; the generated C cannot call it") \
            from None
