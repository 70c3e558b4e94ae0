"""`penspec test`: golden-file tests over artists' spec folders."""

from __future__ import annotations

import click

from .exits import Exit


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--update", is_flag=True, help="Rewrite the golden files instead of comparing.")
@click.option("--render", is_flag=True, help="Also run a short smoke build per spec (its `test:` section) and compare its summary.")
@click.option("--device", default="cpu", show_default=True, help="Device for --render smoke builds.")
def test_cmd(paths: tuple[str, ...], update: bool, render: bool, device: str) -> Exit:
    """Check that every spec under PATHS (default: .) still compiles to its golden plan.

    Exit 0 when all match, 1 on a mismatch or a missing golden (with a diff), 2 on an invalid spec.
    """
    from penspec.runtime.spectest import format_report, run_tests

    report = run_tests(paths or (".",), update=update, render=render, device=device)
    for line in format_report(report):
        click.echo(line)
    return Exit.FAILED if report.failed or not report.outcomes else Exit.OK
