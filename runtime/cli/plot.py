"""`penspec plot BUILD_DIR`: plot a built piece with pyaxidraw, one pen layer at a time."""

from __future__ import annotations

import click

from .exits import Exit


@click.command("plot")
@click.argument("build_dir", type=click.Path(file_okay=False))
@click.option("--layer", type=int, default=None, help="Plot only this AxiDraw layer number.")
@click.option("--pen", default=None, help="Plot only the layers of this pen id.")
@click.option("--preview", is_flag=True, help="Simulate without a plotter and print pyaxidraw's time estimate.")
@click.option("--resume", is_flag=True, help="Finish the last paused layer, then plot the layers after it.")
@click.option("--yes", "-y", is_flag=True, help="Do not wait for Enter before each pen.")
def plot_cmd(build_dir: str, layer: int | None, pen: str | None, preview: bool, resume: bool, yes: bool) -> Exit:
    """Plot a built piece with pyaxidraw (the same flow as the build's plot.py)."""
    from contextlib import nullcontext
    from pathlib import Path

    from penspec.runtime.emit.plotter import load_build, plot_build
    from penspec.runtime.folderlock import hold_folder

    load_build(Path(build_dir))  # a folder that is not a build stops here, before it is locked
    # a plot writes its progress files into the build folder: no build may write there meanwhile
    # (a preview writes nothing); files penspec did not write are left alone as always
    with nullcontext() if preview else hold_folder(build_dir, into_existing=True):
        session = plot_build(build_dir, layer=layer, pen=pen, preview=preview, resume=resume, yes=yes, ask=input, echo=click.echo,
                             warn=lambda text: click.echo(text, err=True))
    if session.prompt:
        click.echo("aborted", err=True)
    return Exit(session.exit_code)  # the plot flow has said why, and how to finish a stopped layer
