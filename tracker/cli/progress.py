"""How `tracker backfill` shows its progress: bars on a terminal, plain lines otherwise
(a log file or a pipe should get one readable line per series, not redraw codes)."""

from __future__ import annotations

from typing import Self

import click

from tracker.service.backfill import Reporter, Task
from tracker.textsafe import text, visible


def _summary(task: Task) -> str:
    """One line; a source's error is untrusted text (tracker/textsafe.py)."""
    if task.error:
        return visible(f"{task.series_id}: FAILED after {task.points} points: {task.error}")
    return visible(f"{task.series_id}: ok, {task.points} points since {task.since.date()}")


class PlainReporter(Reporter):
    def finished(self, task: Task) -> None:
        click.echo(_summary(task))


class BarReporter(Reporter):
    """One bar per series, counting windows; the summary line replaces it when done."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[points]} points"),
        )
        self.bars: dict[str, int] = {}

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def started(self, task: Task) -> None:
        self.bars[task.series_id] = self.progress.add_task(
            visible(task.series_id), total=max(task.windows, 1), points=0
        )

    def window_done(self, task: Task, until, points: int) -> None:
        self.progress.update(self.bars[task.series_id], advance=1, points=task.points)

    def finished(self, task: Task) -> None:
        bar = self.bars[task.series_id]
        self.progress.update(bar, completed=max(task.windows, 1), points=task.points)
        self.progress.console.print(text(_summary(task)))  # never markup
        self.progress.remove_task(bar)
