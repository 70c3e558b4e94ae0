"""`penspec plot` (not written yet)."""

import click


@click.command("plot")
@click.argument("build_dir", type=click.Path(file_okay=False))
def plot_cmd(build_dir: str) -> None:
    """Plot a built piece with pyaxidraw."""
    raise click.ClickException("penspec plot is not available yet")
