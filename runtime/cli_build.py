"""`penspec build` (not written yet)."""

import click


@click.command("build")
@click.argument("spec", type=click.Path(dir_okay=False))
def build_cmd(spec: str) -> None:
    """Build a piece from its spec."""
    raise click.ClickException("penspec build is not available yet")
