"""A history drawn with text, for `tracker show`: one column per slice of time, bars built
from the eighth-block characters, so it needs no graphics and pastes into any terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from tracker.formats import short

EIGHTHS = " ▁▂▃▄▅▆▇█"
UNKNOWN = "┄"  # the axis under a time nothing was stored for


def column_ends(first: datetime, last: datetime, width: int) -> list[datetime]:
    """The ends of ``width`` equal slices of the time from ``first`` to ``last``: the
    moments a chart of ``width`` columns shows. A history read thinned to these slices
    (db.queries.thinned_snapshots) draws as the whole of it does."""
    span = last - first
    return [first + span * (column + 1) / width for column in range(width)]


def step_values(points: Sequence[tuple[datetime, float]], width: int,
                span: tuple[datetime, datetime] | None = None) -> list[float | None]:
    """The value in force at the end of each of ``width`` equal slices of ``span`` (by
    default, from the first point to the last): a snapshot holds until the next one, the
    series is a step function. None for a slice that ends before the first point or
    starts after the last: nothing says what held then."""
    first, last = span or (points[0][0], points[-1][0])
    values: list[float | None] = []
    i, begun = 0, first
    for moment in column_ends(first, last, width):
        if moment < points[0][0] or (span is not None and begun >= points[-1][0]):
            values.append(None)
        else:
            while i + 1 < len(points) and points[i + 1][0] <= moment:
                i += 1
            values.append(points[i][1])
        begun = moment
    return values


def draw(
    points: Sequence[tuple[datetime, float]],
    width: int = 60,
    height: int = 8,
    low: float | None = None,
    high: float | None = None,
    fmt: Callable[[float], str] = short,
    until: datetime | None = None,
    span: tuple[datetime, datetime] | None = None,
) -> list[str]:
    """Lines of text: the chart with its scale on the left and its dates below.
    ``low``/``high`` fix the scale (0 and 1 for probabilities); else the data's range.
    A value holds until the next one; the last holds on to ``until`` when that is later
    (when it was last seen to hold). ``span``: the time the chart covers, up to its end
    (by default, its points'); where nothing says what held, the axis is dotted and a
    line says so."""
    points = [(ts, v) for ts, v in points if v is not None]
    if not points:
        return ["(no history yet)"]
    if until is not None and until > points[-1][0]:
        points.append((until, points[-1][1]))
    if span is not None:
        span = (min(span[0], points[0][0]), max(span[1], points[-1][0]))
    if len(points) > 1 or span is not None:
        values = step_values(points, width, span)
    else:
        values = [points[0][1]] * width
    known = [v for v in values if v is not None]
    low = min(known) if low is None else low
    high = max(known) if high is None else high
    if high <= low:
        high = low + 1.0
    eighths = [None if v is None else round((v - low) / (high - low) * height * 8)
               for v in values]
    labels = [fmt(high), fmt(low)]
    pad = max(len(x) for x in labels)
    lines = []
    for row in range(height, 0, -1):
        floor = (row - 1) * 8
        cells = "".join(" " if e is None else EIGHTHS[min(8, max(0, e - floor))]
                        for e in eighths)
        scale = labels[0] if row == height else labels[1] if row == 1 else ""
        lines.append(f"{scale:>{pad}} │{cells}")
    first, last = span or (points[0][0], points[-1][0])
    if span is not None:  # it ends where its last day does: name that day
        last -= timedelta(microseconds=1)
    start, end = f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"
    gap = max(1, width - len(start) - len(end))
    axis = "".join(UNKNOWN if e is None else "─" for e in eighths)
    lines.append(f"{'':>{pad}} └{axis}")
    lines.append(f"{'':>{pad}}  {start}{' ' * gap}{end}")
    if UNKNOWN in axis:
        lines.append(f"{'':>{pad}}  {UNKNOWN} nothing stored for that time")
    return lines
