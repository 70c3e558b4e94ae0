"""The `penspec` command line. The only module that imports click.

Exit codes: 0 ok, 1 internal error or failed check, 2 invalid input (spec, override, missing
resource). Bad input never prints a Python traceback; set PENSPEC_DEBUG=1 to see one for
internal errors.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from penspec.spec.errors import MissingResourceError, OutputFolderError, PenspecError, SpecError

EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="penspec")
def cli() -> None:
    """penspec: YAML artwork specs in, plotter-ready drawings out."""


def _register() -> None:
    """Attach the commands; each lives beside the code it drives and imports torch lazily."""
    from penspec.runtime.cli_spec import plan_cmd, validate_cmd

    cli.add_command(validate_cmd)
    cli.add_command(plan_cmd)
    from penspec.runtime.cli_build import build_cmd

    cli.add_command(build_cmd)
    from penspec.runtime.emit.cli_plot import plot_cmd

    cli.add_command(plot_cmd)
    from penspec.runtime.cli_doctor import doctor_cmd

    cli.add_command(doctor_cmd)
    from penspec.runtime.cli_test import test_cmd

    cli.add_command(test_cmd)
    from penspec.runtime.cli_open import open_cmd

    cli.add_command(open_cmd)


_register()


def _calm_openmp_threads() -> None:
    """Let idle OpenMP threads sleep instead of spin (unless the user chose otherwise).

    The renderer runs many short parallel regions; with spinning threads on a machine that is
    busy with anything else, every region waits for a time slice (a 1024 px step measured
    19 s instead of 0.12 s). It must be set before torch starts its thread pool, and no
    command imports torch before this runs.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> None:
    _calm_openmp_threads()
    try:
        code = cli.main(args=argv, prog_name="penspec", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT if exc.exit_code == 2 else exc.exit_code)
    except (SpecError, MissingResourceError, OutputFolderError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INPUT)
    except PenspecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAIL)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # an internal error: say so plainly
        if os.environ.get("PENSPEC_DEBUG"):
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc} (set PENSPEC_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_FAIL)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
