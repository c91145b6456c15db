"""A history drawn with text, for `tracker show`: one column per slice of time, bars built
from the eighth-block characters, so it needs no graphics and pastes into any terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

EIGHTHS = " ▁▂▃▄▅▆▇█"


def column_ends(first: datetime, last: datetime, width: int) -> list[datetime]:
    """The ends of ``width`` equal slices of the time from ``first`` to ``last``: the
    moments a chart of ``width`` columns shows. A history read thinned to these slices
    (db.queries.thinned_snapshots) draws as the whole of it does."""
    span = last - first
    return [first + span * (column + 1) / width for column in range(width)]


def step_values(points: Sequence[tuple[datetime, float]], width: int) -> list[float]:
    """The value in force at the end of each of ``width`` equal slices of the time span
    (a snapshot holds until the next one: the series is a step function)."""
    values, i = [], 0
    for moment in column_ends(points[0][0], points[-1][0], width):
        while i + 1 < len(points) and points[i + 1][0] <= moment:
            i += 1
        values.append(points[i][1])
    return values


def draw(
    points: Sequence[tuple[datetime, float]],
    width: int = 60,
    height: int = 8,
    low: float | None = None,
    high: float | None = None,
    fmt: Callable[[float], str] = lambda v: f"{v:,.4g}",
    until: datetime | None = None,
) -> list[str]:
    """Lines of text: the chart with its scale on the left and its dates below.
    ``low``/``high`` fix the scale (0 and 1 for probabilities); else the data's range.
    A value holds until the next one; the last holds on to ``until`` when that is later
    (when it was last seen to hold)."""
    points = [(ts, v) for ts, v in points if v is not None]
    if not points:
        return ["(no history yet)"]
    if until is not None and until > points[-1][0]:
        points.append((until, points[-1][1]))
    values = step_values(points, width) if len(points) > 1 else [points[0][1]] * width
    low = min(values) if low is None else low
    high = max(values) if high is None else high
    if high <= low:
        high = low + 1.0
    eighths = [round((v - low) / (high - low) * height * 8) for v in values]
    labels = [fmt(high), fmt(low)]
    pad = max(len(x) for x in labels)
    lines = []
    for row in range(height, 0, -1):
        floor = (row - 1) * 8
        cells = "".join(EIGHTHS[min(8, max(0, e - floor))] for e in eighths)
        scale = labels[0] if row == height else labels[1] if row == 1 else ""
        lines.append(f"{scale:>{pad}} │{cells}")
    start, end = f"{points[0][0]:%Y-%m-%d}", f"{points[-1][0]:%Y-%m-%d}"
    gap = max(1, width - len(start) - len(end))
    lines.append(f"{'':>{pad}} └{'─' * width}")
    lines.append(f"{'':>{pad}}  {start}{' ' * gap}{end}")
    return lines
