"""`penspec validate` and `penspec plan` (not written yet)."""

import click


@click.command("validate")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate_cmd(specs: tuple[str, ...]) -> None:
    """Validate and compile specs."""
    raise click.ClickException("penspec validate is not available yet")


@click.command("plan")
@click.argument("spec", type=click.Path(dir_okay=False))
def plan_cmd(spec: str) -> None:
    """Print a spec's plan."""
    raise click.ClickException("penspec plan is not available yet")
