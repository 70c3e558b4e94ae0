"""`penspec build`: the click command over :func:`penspec.runtime.build.build`.

Heavy imports (torch, the nets) happen when the command runs, not when the CLI starts.
"""

from __future__ import annotations

import math

import click

from .spec import set_option


@click.command("build")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: the spec's output.dir, else build/<piece>).")
@set_option
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="Where to optimise.")
@click.option("--renderer", type=click.Choice(["torch", "diffvg"]), default="torch", show_default=True, help="Differentiable renderer backend.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=None,
              help="The nets' precision, overriding the spec's network.precision (auto: bf16 where the device has it, else fp32).")
@click.option("--resume", is_flag=True, help="Continue an interrupted stage from its last checkpoint.")
@click.option("--force", is_flag=True, help="Rerun every stage, even those whose stored result is still valid.")
@click.option("--exact", is_flag=True,
              help="After a change to the look (pen colour, width, opacity, paper), optimise the stored strokes again "
                   "instead of re-inking them, so the result equals a clean build.")
@click.option("--into-existing", is_flag=True,
              help="Build into a folder that already holds other files; penspec never changes or deletes a file it did not write.")
@click.option("--wait", type=click.FloatRange(min=0), is_flag=False, flag_value=math.inf, default=None, metavar="[SECONDS]",
              help="When another build or plot is writing into the folder, wait for it (at most SECONDS) instead of stopping.")
@click.option("--ignore-memory", is_flag=True,
              help="Build even when the plan's memory estimate for a stage exceeds the device's available memory.")
def build_cmd(spec: str, out_dir: str | None, overrides: tuple[str, ...], device: str, renderer: str, precision: str | None,
              resume: bool, force: bool,
              exact: bool, into_existing: bool, wait: float | None, ignore_memory: bool) -> None:
    """Build a piece from its SPEC: optimise the strokes and write the plotter files.

    A rebuild reuses every stored stage whose drawing is unchanged. A change to the look only
    re-inks the stored strokes (build.lock and the report say so); --exact optimises them again.
    A build whose memory estimate (see `penspec plan`) exceeds the device's available memory is
    refused before anything is loaded, unless --ignore-memory.
    """
    from penspec.runtime.build import BuildOptions, build
    from penspec.runtime.progress import RichReporter

    reporter = RichReporter()
    options = BuildOptions(out_dir=out_dir, overrides=tuple(overrides), device=device, renderer=renderer, precision=precision, resume=resume,
                           force=force, exact=exact, into_existing=into_existing, wait=wait, ignore_memory=ignore_memory)
    result = build(spec, options, reporter)
    objective = result.metrics["objective"]
    console = reporter.console
    for term in objective["terms"]:
        console.print(f"  {term['term']}: {term['before']:.6g} -> {term['after']:.6g}")
    if result.up_to_date:
        console.print(f"{result.plan.title!r} in {result.out_dir}/ is up to date ({len(result.files)} files)")
    else:
        console.print(f"built {result.plan.title!r} into {result.out_dir}/ ({len(result.files)} files)")
