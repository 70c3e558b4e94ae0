"""`penspec validate` and `penspec plan`: load and compile specs, no torch anywhere.

Both take ``--set key.path=value`` overrides. ``validate`` reports every spec it is given
(``ok <spec>`` or all of that spec's errors) and returns :attr:`Exit.INPUT` when any is
invalid; ``plan`` raises the spec's errors for :func:`penspec.runtime.cli.main` to report.
"""

from __future__ import annotations

import click

from penspec.compiler import Plan, compile_spec
from penspec.compiler.summary import summarize
from penspec.spec.atomic import atomic_write
from penspec.spec.errors import SpecError

from .exits import Exit

set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a spec value, e.g. --set strokes.count=50 (repeatable).",
)


def load_plan(spec_path: str, overrides: tuple[str, ...] = ()) -> Plan:
    """Load, validate and compile one spec file (SpecError/CompileError on bad input)."""
    from penspec.spec import load

    return compile_spec(load(spec_path, overrides))


@click.command("validate")
@click.argument("specs", nargs=-1, required=True)
@set_option
def validate_cmd(specs: tuple[str, ...], overrides: tuple[str, ...]) -> Exit:
    """Check that each SPEC loads and compiles; print `ok SPEC` or all of its errors."""
    invalid = 0
    for path in specs:
        try:
            load_plan(path, overrides)
        except SpecError as exc:
            invalid += 1
            count = len(exc.diagnostics)
            click.echo(exc.render(limit=count), err=True)
            click.echo(f"invalid {path}: {count} problem{'s' if count != 1 else ''}", err=True)
        else:
            click.echo(f"ok {path}")
    if invalid and len(specs) > 1:
        click.echo(f"{invalid} of {len(specs)} specs are invalid", err=True)
    return Exit.INPUT if invalid else Exit.OK


@click.command("plan")
@click.argument("spec")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the plan JSON here instead of stdout.")
@set_option
def plan_cmd(spec: str, output: str | None, overrides: tuple[str, ...]) -> None:
    """Compile SPEC and print its plan as JSON, with a summary of the estimates on stderr."""
    plan = load_plan(spec, overrides)
    text = plan.to_json()
    if output:
        try:
            atomic_write(output, text)
        except OSError as exc:
            raise click.BadParameter(f"cannot write {output}: {exc.strerror or exc}", param_hint="-o/--output") from None
    else:
        click.echo(text, nl=False)
    click.echo(summarize(plan, source=spec), err=True)
    if output:
        click.echo(f"plan written to {output}", err=True)
