"""Showing a build's progress: one rich progress bar per stage (step, loss, steps/s, ETA).

The runner talks to a :class:`Reporter`; it never prints. :class:`RichReporter` draws bars on
stderr, :class:`SilentReporter` records events (tests, library use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from penspec.compiler.plan import StagePlan


class Reporter(Protocol):
    def stage_reused(self, stage: StagePlan) -> None: ...

    def stage_started(self, stage: StagePlan, first_step: int, total: int) -> None: ...

    def step(self, stage: StagePlan, step: int, loss: float) -> None: ...

    def stage_done(self, stage: StagePlan, seconds: float) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class SilentReporter:
    """Keeps what happened instead of showing it."""

    events: list[tuple] = field(default_factory=list)

    def stage_reused(self, stage: StagePlan) -> None:
        self.events.append(("reused", stage.name))

    def stage_started(self, stage: StagePlan, first_step: int, total: int) -> None:
        self.events.append(("started", stage.name, first_step))

    def step(self, stage: StagePlan, step: int, loss: float) -> None:
        self.events.append(("step", stage.name, step, loss))

    def stage_done(self, stage: StagePlan, seconds: float) -> None:
        self.events.append(("done", stage.name))

    def note(self, text: str) -> None:
        self.events.append(("note", text))


class RichReporter:
    """Progress bars on a rich console (stderr by default)."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._progress = None
        self._task = None

    def _bar(self):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} steps/s"),
            TimeRemainingColumn(),
            console=self.console,
        )

    def stage_reused(self, stage: StagePlan) -> None:
        self.console.print(f"[green]reused[/] {stage.name} (fingerprint {stage.fingerprint[:12]} unchanged)")

    def stage_started(self, stage: StagePlan, first_step: int, total: int) -> None:
        if total == 0:
            return
        if first_step:
            self.console.print(f"resuming {stage.name} at step {first_step}/{total}")
        self._progress = self._bar()
        self._progress.start()
        self._task = self._progress.add_task(stage.name, total=total, completed=first_step, loss="-", rate="-")

    def step(self, stage: StagePlan, step: int, loss: float) -> None:
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        rate = f"{task.speed:.2f}" if task.speed else "-"
        self._progress.update(self._task, completed=step + 1, loss=f"{loss:.4g}", rate=rate)

    def stage_done(self, stage: StagePlan, seconds: float) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self.console.print(f"[bold]{stage.name}[/] done in {seconds:.1f}s")

    def note(self, text: str) -> None:
        self.console.print(text, soft_wrap=True, markup=False)  # one line, whatever the terminal width
