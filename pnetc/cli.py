"""The `pnetc` command line. It parses arguments and calls the pipeline stages; no logic lives here.

Every user error surfaces as one line `pnetc: error: ...` and exit code 2.
Heavy imports (torch, onnx) happen inside the commands so `pnetc --help` starts fast.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from pnetc import __version__
from pnetc.errors import PnetcError

app = typer.Typer(
    name="pnetc",
    help="Train ProjectionNet models and compile them to bit-exact C99 for microcontrollers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pnetc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """pnetc: ProjectionNet trainer and compiler."""


def fail(message: str) -> "typer.Exit":
    """Print the one-line error and return an Exit(2) to raise."""
    typer.echo(f"pnetc: error: {message}", err=True)
    return typer.Exit(2)


# ---- commands ---------------------------------------------------------------
# Each command imports its stage lazily and only translates arguments.


def main(argv: Optional[list[str]] = None) -> None:
    """Console entry point: run the app and turn every user error into one line and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        args = ["--help"]
    try:
        rv = app(args=args, prog_name="pnetc", standalone_mode=False)
    except PnetcError as exc:
        typer.echo(f"pnetc: error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("pnetc: error: aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: bad options, missing arguments
        typer.echo(f"pnetc: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("pnetc: error: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
