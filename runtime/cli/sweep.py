"""`penspec sweep`: the click command over :func:`penspec.runtime.sweep.run_sweep`.

Exit 0 when every point is built or up to date, 1 when one failed (sweep.json and index.html
say which, and why), 2 for a spec, override or sweep that does not compile (nothing is built).
"""

from __future__ import annotations

import click

from .exits import Exit
from .spec import set_option


@click.command("sweep")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--vary", "vary", multiple=True, metavar="KEY=VALUES",
              help="Add an axis, or replace the spec's axis of that key: a list such as vars.channel=[17, 20, 33], "
                   "or a range such as seed=1..4 or vars.channel=0..30 step 10 (repeatable).")
@set_option
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False),
              help="Sweep folder: one build folder per point, sweep.json, index.html, contact.png (default: build/<piece>-sweep).")
@click.option("--zip", "zipped", is_flag=True, help="Pair the i-th values of equally long axes instead of taking every combination.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local builds at once, each in its own process with its share of the CPU threads (one at a time on a GPU).")
@click.option("--ray", "ray", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Run each point as a Ray task: alone (last, or before another option), on a local Ray runtime; "
                   "--ray=ADDRESS joins that Ray cluster. Needs pip install 'penspec[ray]'.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="Where to optimise.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=None,
              help="The nets' precision for every point, overriding the spec's network.precision.")
@click.option("--renderer", type=click.Choice(["torch", "diffvg"]), default="torch", show_default=True, help="Differentiable renderer backend.")
@click.option("--force", is_flag=True, help="Rerun every stage of every point.")
@click.option("--into-existing", is_flag=True,
              help="Write into folders that already hold other files; penspec never changes or deletes a file it did not write.")
def sweep_cmd(spec: str, vary: tuple[str, ...], overrides: tuple[str, ...], out_dir: str | None, zipped: bool, jobs: int,
              ray: str | None, device: str, precision: str | None, renderer: str, force: bool, into_existing: bool) -> Exit:
    """Build SPEC once per point of a grid of values: the spec's sweep: section and each --vary.

    Every point is compiled before anything runs; each is then an ordinary build in its own
    folder, so a rerun builds only the points that are missing or changed.
    """
    from penspec.runtime.progress import RichSweepReporter
    from penspec.runtime.sweep import BUILT, FAILED, UP_TO_DATE, SweepOptions, run_sweep

    reporter = RichSweepReporter()
    if precision:  # as for penspec build: network.precision set from the command line
        overrides = (*overrides, f"network.precision={precision}")
    options = SweepOptions(out_dir=out_dir, vary=tuple(vary), overrides=tuple(overrides), zipped=zipped, jobs=jobs, ray=ray,
                           device=device, renderer=renderer, force=force, into_existing=into_existing)
    result = run_sweep(spec, options, reporter)
    out = result.plan.out_dir
    counts = ", ".join(f"{result.count(s)} {s}" for s in (BUILT, UP_TO_DATE, FAILED) if result.count(s))
    reporter.console.print(f"{len(result.plan.points)} points in {out}/ ({counts}) in {result.seconds:.1f}s; "
                           f"see {out / 'index.html'}")
    return Exit.OK if result.ok else Exit.FAILED
