"""The one exception type users see. The CLI prints it as `pnetc: error: ...` and exits 2."""


class PnetcError(Exception):
    """A user-facing error: bad input, a missing file or tool, a model that does not fit."""
