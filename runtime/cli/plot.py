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
    from pathlib import Path

    from penspec.runtime.emit.plotter import load_build, plot_build
    from penspec.runtime.folderlock import hold_folder

    load_build(Path(build_dir))  # a folder that is not a build stops here, before it is locked
    if preview:  # a preview writes nothing
        session = plot_build(build_dir, layer=layer, pen=pen, preview=preview, resume=resume, yes=yes, ask=input, echo=click.echo)
    else:  # the plot's progress files are written into the build folder: no build may write there meanwhile
        with hold_folder(build_dir, into_existing=True):  # files penspec did not write are left alone as always
            session = plot_build(build_dir, layer=layer, pen=pen, preview=preview, resume=resume, yes=yes, ask=input, echo=click.echo)
    if not session.stopped:
        return Exit.OK
    if session.layers and session.layers[-1].stop_code:
        return Exit.PLOT_STOPPED  # the plot flow has said how to finish the layer
    click.echo("aborted", err=True)
    return Exit.INTERRUPTED
