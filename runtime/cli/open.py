"""`penspec open BUILD_DIR`: show a build's page (report.html) in the user's browser."""

from __future__ import annotations

from pathlib import Path

import click

from penspec.runtime.emit import PAGE
from penspec.spec.errors import MissingResourceError


@click.command("open")
@click.argument("build_dir", type=click.Path(file_okay=False))
def open_cmd(build_dir: str) -> None:
    """Open the build's page in the browser; print its path when there is no browser."""
    import webbrowser

    page = Path(build_dir) / PAGE
    if not page.is_file():
        raise MissingResourceError(f"{page}: no build page here; `penspec build` writes it into every build folder")
    path = page.resolve()
    try:
        opened = webbrowser.open(path.as_uri())
    except webbrowser.Error:
        opened = False
    click.echo(f"opened {path}" if opened else f"no browser found; the page is {path}")
