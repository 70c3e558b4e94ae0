"""A short human summary of a plan: stages, pens and the estimates, as `penspec plan` prints it."""

from __future__ import annotations

from .plan import Plan


def duration(seconds: float) -> str:
    """``"1h 32m"``, ``"4m 05s"``, ``"12s"``."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def length(mm: float) -> str:
    return f"{mm / 1000:.1f} m" if mm >= 1000 else f"{mm:.0f} mm"


def nbytes(n: float) -> str:
    """``"512 KiB"``, ``"1.4 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit in ("B", "KiB") else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def summarize(plan: Plan, source: str | None = None) -> str:
    """The summary; ``source`` names the spec as the user gave it (default the plan's file name)."""
    c, p = plan.canvas, plan.paper
    orientation = " landscape" if p.landscape else ""
    lines = [
        f"{plan.title} ({source or plan.source})",
        f"canvas {c.width_px}x{c.height_px} px on {p.name}{orientation} ({p.width_mm:g} x {p.height_mm:g} mm), "
        f"{c.mm_per_px:.4g} mm/px; plotter: {plan.plot.model_name}",
        "stages:",
    ]
    for s in plan.stages:
        size = f"{s.size.width}x{s.size.height} px"
        lines.append(f"  {s.name:<14} {size:<14} {s.strokes:>6} strokes  {s.describe()}")
    if plan.estimates.stages:
        precision = ", ".join(sorted({n.precision for n in plan.objective.nets}))
        lines.append(f"memory per step (estimate, nets at {precision}, counted as fp32):")
        for c in plan.estimates.stages:
            lines.append(
                f"  {c.stage:<14} peak ~{nbytes(c.peak_bytes):>10}  (renderer {nbytes(c.renderer_bytes)}, images {nbytes(c.images_bytes)}, "
                f"nets {nbytes(c.nets_bytes)}, optimiser {nbytes(c.optimizer_bytes)}); {c.pixels} view px, {c.inked} inked px"
            )
    nets = ", ".join(f"{n.name} ({n.weights}, up to {n.deepest})" for n in plan.objective.nets)
    lines.append(f"objective: {plan.objective.expression}  [{nets}]")
    lines.append("pens (estimates before optimisation):")
    widths = {pen.id: pen for pen in plan.pens}
    for e in plan.estimates.pens:
        pen = widths[e.pen]
        lines.append(
            f"  {pen.layer:>2} {e.pen:<12} {pen.width_mm:g}mm = {pen.width_px:.2f} px  {e.strokes:>6} strokes  "
            f"ink {length(e.ink_mm):>8}  {e.lifts:>6} lifts  ~{duration(e.time_s)}"
        )
    lines.append(
        f"total: {plan.estimates.steps} optimisation steps; ink {length(plan.estimates.ink_mm)}; "
        f"plot ~{duration(plan.estimates.time_s)} (pen changes not counted)"
    )
    return "\n".join(lines)
