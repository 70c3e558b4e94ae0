"""The `penspec` command line: the only package that imports click.

Each command lives in its own module here and imports the heavy parts (torch, the nets) only
when it runs, so `penspec validate` and `penspec plan` never load torch. Commands return an
:class:`~penspec.runtime.cli.exits.Exit` (or nothing) and raise penspec errors; :func:`main`
alone turns both into messages and the exit status (the table is in
:mod:`penspec.runtime.cli.exits`). A user mistake never prints a Python traceback; set
PENSPEC_DEBUG=1 to see one for internal errors.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from penspec.runtime.threads import calm_openmp_threads
from penspec.spec.errors import PenspecError

from .build import build_cmd
from .doctor import doctor_cmd
from .exits import INPUT_ERRORS, Exit, exit_for
from .open import open_cmd
from .plot import plot_cmd
from .spec import plan_cmd, validate_cmd
from .test import test_cmd

__all__ = ["Exit", "cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="penspec")
def cli() -> None:
    """penspec: YAML artwork specs in, plotter-ready drawings out."""


for _command in (validate_cmd, plan_cmd, build_cmd, plot_cmd, open_cmd, doctor_cmd, test_cmd):
    cli.add_command(_command)
del _command


def run(argv: list[str] | None = None) -> Exit:
    """Run one command line and return its exit code, printing what the user needs to see."""
    calm_openmp_threads()  # idle OpenMP threads sleep (see penspec.runtime.threads); no command has imported torch yet
    try:
        code = cli.main(args=argv, prog_name="penspec", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return Exit.INTERRUPTED
    except click.ClickException as exc:  # an unknown option, a bad argument: always the user's to fix
        exc.show()
        return Exit.INPUT
    except INPUT_ERRORS as exc:
        click.echo(str(exc), err=True)
        return exit_for(exc)
    except PenspecError as exc:
        click.echo(f"error: {exc}", err=True)
        return exit_for(exc)
    except KeyboardInterrupt as exc:
        click.echo("interrupted", err=True)
        return exit_for(exc)
    except Exception as exc:  # an internal error: say so plainly
        if os.environ.get("PENSPEC_DEBUG"):
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set PENSPEC_DEBUG=1 for a traceback)", err=True)
        return exit_for(exc)
    return Exit(code) if code else Exit.OK


def main(argv: list[str] | None = None) -> None:
    """The console script: run the command line and exit with its code."""
    sys.exit(int(run(argv)))
