"""`penspec doctor`: report what works here and how to fix what does not."""

from __future__ import annotations

import click

from .exits import Exit


@click.command("doctor")
def doctor_cmd() -> Exit:
    """Check Python, torch and devices, renderers, cached net weights, vpype and pyaxidraw.

    Exits 1 when a required part is missing; optional parts (diffvg, pyaxidraw, weights that
    download on first use) are reported with their fix but do not fail.
    """
    from rich.console import Console
    from rich.table import Table

    from penspec.runtime.doctor import diagnose

    findings = diagnose()
    table = Table(show_header=True, header_style="bold")
    for column in ("part", "status", "detail"):
        table.add_column(column)
    for f in findings:
        status = "[green]ok[/]" if f.ok else ("[red]missing[/]" if f.required else "[yellow]optional[/]")
        detail = f.detail if f.ok or not f.fix else f"{f.detail}\n  fix: {f.fix}"
        table.add_row(f.part, status, detail)
    Console(soft_wrap=False, width=160).print(table)
    return Exit.FAILED if any(f.required and not f.ok for f in findings) else Exit.OK
