"""Charts drawn on the server as SVG, so a page shows them with no script and nothing
fetched. A history is a step line: a snapshot holds until the next one (one is stored per
change), and the last holds on to when it was last seen to hold. Styling is in
presentation attributes, never ``style``: the pages' Content-Security-Policy allows no
inline styles. Every text placed in a chart is escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from tracker.hits import round_step

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 30  # room for the scale and the dates
FONT = "-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GRID, INK, MUTED = "#d1d9e0", "#1f2328", "#59636e"
LEVEL = "#bc4c00"  # a claim's threshold: apart from the line and the grid
NEAR_END = 135  # how far from an end a month's name clears the end's date in a phone's type


@dataclass(frozen=True)
class Marker:
    """A value marked at one moment, drawn as a dot with a dashed line across: the
    market's price on the day a claim was made."""

    at: datetime
    value: float
    label: str


@dataclass(frozen=True)
class Level:
    """A level the claim names (a threshold, a target), drawn as a dashed line across
    with its value written at the right end."""

    value: float
    label: str


@dataclass(frozen=True)
class Scale:
    """The vertical range drawn and how its ticks read."""

    low: float
    high: float
    fmt: Callable[[float], str]
    ticks: tuple[float, ...]


def probability_scale(fmt: Callable[[float], str]) -> Scale:
    return Scale(0.0, 1.0, fmt, (0.0, 0.25, 0.5, 0.75, 1.0))


def value_scale(values: Sequence[float], fmt: Callable[[float], str]) -> Scale:
    """The values' range with a little room above and below, ticked in thirds."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    return Scale(low, high, fmt, tuple(low + (high - low) * i / 3 for i in range(4)))


def _axes(span: tuple[datetime, datetime], scale: Scale):
    """The x of a moment within ``span`` and the y of a value on ``scale``, in the
    chart's drawing units; either clipped to the plot."""
    first, last = span
    total = (last - first).total_seconds() or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        share = (moment - first).total_seconds() / total
        return round(LEFT + inner_w * min(max(share, 0.0), 1.0), 1)

    def y(value: float) -> float:
        share = (value - scale.low) / ((scale.high - scale.low) or 1.0)
        return round(TOP + inner_h * (1.0 - min(max(share, 0.0), 1.0)), 1)

    return x, y


def step_chart(points: Sequence[tuple[datetime, float]], span: tuple[datetime, datetime],
               scale: Scale, *, title: str, colour: str = INK,
               until: datetime | None = None, marker: Marker | None = None,
               levels: Sequence[Level] = ()) -> Markup:
    """The history ``points`` (oldest first) over ``span``, as an SVG element that
    scales to its container's width. ``until``: the last value holds to then (clipped
    to the span). ``title``: what the chart shows, in words, for screen readers."""
    last = span[1]
    x, y = _axes(span, scale)

    parts = [_open(title), *_grid(scale, y), *_dates(span, x)]
    for level in levels:
        parts += _level(level, y)
    if marker is not None:
        parts += _marker(marker, x, y)
    parts.append(_line(points, x, y, colour, min(until, last) if until else None))
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Line:
    """One of several lines in a chart: its points (oldest first), colour and dashes."""

    points: Sequence[tuple[datetime, float]]
    colour: str
    dashes: str | None = None  # stroke-dasharray, to tell apart lines of one colour


def count_scale(values: Sequence[float]) -> Scale:
    """From 0 to four round steps (tracker/hits.py), ticked at each."""
    step = round_step(values)
    return Scale(0.0, 4 * step, lambda v: f"{v:g}", tuple(step * i for i in range(5)))


def lines_chart(lines: Sequence[Line], span: tuple[datetime, datetime], scale: Scale, *,
                title: str, until: datetime | None = None, desc: str = "") -> Markup:
    """Several step lines over ``span`` on one scale, as ``step_chart`` draws one; each
    holds its last value to ``until``. ``desc``: the figures in words, for screen readers."""
    last = span[1]
    x, y = _axes(span, scale)

    parts = [_open(title, desc), *_grid(scale, y), *_dates(span, x)]
    held = min(until, last) if until else None
    for line in reversed(lines):  # the first drawn last: on top
        if line.points:
            parts.append(_line(line.points, x, y, line.colour, held, line.dashes))
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(title: str, desc: str = "") -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
            f'role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="12">'
            f"<title>{escape(title)}</title>"
            + (f"<desc>{escape(desc)}</desc>" if desc else ""))


def _grid(scale: Scale, y: Callable[[float], float]) -> list[str]:
    out = []
    for tick in scale.ticks:
        at = y(tick)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at}" y2="{at}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{at + 4}" text-anchor="end" '
                   f'fill="{MUTED}">{escape(scale.fmt(tick))}</text>')
    return out


def _dates(span: tuple[datetime, datetime], x: Callable[[datetime], float]) -> list[str]:
    """The first and last day at the ends; between them the first of each month, when
    there is room for its name."""
    first, last = span
    base = HEIGHT - BOTTOM + 18
    out = [f'<text x="{LEFT}" y="{base}" fill="{MUTED}">{first:%Y-%m-%d}</text>',
           (f'<text x="{WIDTH - RIGHT}" y="{base}" text-anchor="end" '
            f'fill="{MUTED}">{last:%Y-%m-%d}</text>')]
    month = datetime(first.year, first.month, 1, tzinfo=first.tzinfo)
    while True:
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1,
                         tzinfo=first.tzinfo)
        if month >= last:
            return out
        at = x(month)
        out.append(f'<line x1="{at}" x2="{at}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                   f'stroke="{GRID}" stroke-width="1" stroke-dasharray="2 4"/>')
        if LEFT + 80 < at < WIDTH - RIGHT - 80:  # clear of the dates at the ends
            # Nearer the ends, the larger type of a phone's screen would meet the dates:
            # there the stylesheet hides these (.chart .near-end).
            near = not LEFT + NEAR_END < at < WIDTH - RIGHT - NEAR_END
            kind = ' class="near-end"' if near else ""
            out.append(f'<text{kind} x="{at}" y="{base}" text-anchor="middle" '
                       f'fill="{MUTED}">{MONTHS[month.month - 1]}</text>')


def _marker(marker: Marker, x, y) -> list[str]:
    at, level = x(marker.at), y(marker.value)
    anchor = "start" if at < WIDTH / 2 else "end"
    offset = 8 if anchor == "start" else -8
    return [(f'<line class="made-on" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level}" '
             f'y2="{level}" stroke="{MUTED}" stroke-width="1" stroke-dasharray="5 4"/>'),
            (f'<circle cx="{at}" cy="{level}" r="4.5" fill="#ffffff" stroke="{INK}" '
             f'stroke-width="2"/>'),
            (f'<text x="{at + offset}" y="{level - 8}" text-anchor="{anchor}" '
             f'fill="{INK}">{escape(marker.label)}</text>')]


def _level(level: Level, y) -> list[str]:
    at = y(level.value)
    above = at - 6 if at - 6 > TOP + 10 else at + 16  # under the line when at the top
    return [(f'<line class="level" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at}" y2="{at}" '
             f'stroke="{LEVEL}" stroke-width="1.5" stroke-dasharray="6 4"/>'),
            (f'<text class="level-label" x="{WIDTH - RIGHT - 4}" y="{above}" '
             f'text-anchor="end" fill="{LEVEL}">{escape(level.label)}</text>')]


def _line(points, x, y, colour: str, until: datetime | None, dashes: str | None = None) -> str:
    """The step path: along at each value, then up or down to the next."""
    (start, value), *rest = points
    path = [f"M{x(start)},{y(value)}"]
    for moment, value in rest:
        path.append(f"H{x(moment)}V{y(value)}")
    if until is not None and until > points[-1][0]:
        path.append(f"H{x(until)}")
    dash = f' stroke-dasharray="{dashes}"' if dashes else ""
    return (f'<path class="history" d="{"".join(path)}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5" stroke-linejoin="round"{dash}/>')
