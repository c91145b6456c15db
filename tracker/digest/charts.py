"""Small PNG charts of a prediction's probability for the digest: 300x90 CSS pixels drawn
at 2x, the 0-100% scale fixed so charts compare at a glance, a faint 50% guide and the
last value written at the end of the line.

Drawn with Pillow, imported inside the functions (the CLI must start fast): a step line,
a tint under it, a guide and a few labels need no plotting library, whose import alone
would cost more than a digest preview may take. The line is drawn at twice the size and
scaled down, which smooths its edges; the text is drawn at the final size by FreeType,
with Pillow's bundled font so that no font needs to be installed. Each chart loads its
own fonts (it takes microseconds): a FreeType face is not to be shared between threads,
and nothing is.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tracker.digest.content import Digest, Line
    from tracker.hits import HitsChart

WIDTH, HEIGHT = 600, 180  # pixels, shown at 300x90
SMOOTH = 2  # the line is drawn this many times larger, then scaled down
# The plot area: room on the left for the 0/50/100 labels, on the right for the last
# value, below for the dates.
LEFT, TOP, RIGHT, BOTTOM = 51, 11, 519, 144
LOW, HIGH = -2.0, 102.0  # the scale, in percent: a line at 0 or 100% is drawn whole
INK = "#1f2328"
MUTED = "#8c959f"
GUIDE = "#d8dee4"
LINE_PX, GUIDE_PX, DOT_PX = 4.0, 2.0, 7.0  # at the final size
TINT = 0.08  # the share of the line's colour in the area under it
LABEL_PX, VALUE_PX = 18, 22  # font sizes


def chart_png(line: Line, until: datetime | None = None, timezone: str = "UTC") -> bytes:
    """The PNG of ``line.history`` (at least one point) as a step line, 0-100%. A value
    holds until the next one, so the last is drawn on to ``until`` (the digest's time;
    without it, a short stretch past the last point, so the last step shows). Dates are
    labelled in ``timezone``."""
    from PIL import Image, ImageDraw

    from tracker.digest.render import LINE_COLOURS

    points = sorted((at, p) for at, p in line.history if p is not None)
    if not points:
        raise ValueError(f"{line.id}: no history to chart")
    last_at, last = points[-1]
    span = last_at - points[0][0]
    if until is None or until <= last_at:
        until = last_at + max(span / 40, timedelta(hours=1))
    points.append((until, last))
    colour = LINE_COLOURS.get(line.status, INK)

    big = Image.new("RGB", (WIDTH * SMOOTH, HEIGHT * SMOOTH), "white")
    _draw_line(ImageDraw.Draw(big), points, colour)
    image = big.reduce(SMOOTH)
    _draw_labels(ImageDraw.Draw(image), points, colour, ZoneInfo(timezone))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # a third quicker, a quarter larger
    return out.getvalue()


def _draw_line(draw, points: list[tuple[datetime, float]], colour: str) -> None:
    """The tint, the 50% guide, the axis, the step line and its end dot, at SMOOTH size."""
    s = SMOOTH
    first, end = points[0][0].timestamp(), points[-1][0].timestamp()
    scale = s * (RIGHT - LEFT) / max(end - first, 1.0)

    def x(at: datetime) -> float:
        return s * LEFT + scale * (at.timestamp() - first)

    def y(p: float) -> float:
        return s * (TOP + (BOTTOM - TOP) * (HIGH - 100 * p) / (HIGH - LOW))

    steps = [(x(points[0][0]), y(points[0][1]))]
    for (_, before), (at, p) in pairwise(points):
        steps += [(x(at), y(before)), (x(at), y(p))]
    zero = y(0.0)
    draw.polygon([*steps, (steps[-1][0], zero), (steps[0][0], zero)], fill=_tint(colour))
    dash, gap = 6 * s, 4 * s
    left, right = steps[0][0], steps[-1][0]
    for start in range(int(left), int(right), dash + gap):
        draw.line([(start, y(0.5)), (min(start + dash, right), y(0.5))], fill=GUIDE,
                  width=round(GUIDE_PX * s))
    draw.line([(left, s * BOTTOM), (right, s * BOTTOM)], fill=GUIDE, width=round(GUIDE_PX * s))
    # One polyline: square ends, so a corner misses a sliver outside; rounded joints
    # would cost a circle at every corner, several times the whole line.
    draw.line(steps, fill=colour, width=round(LINE_PX * s))
    r = DOT_PX * s / 2
    end_x, end_y = steps[-1]
    draw.ellipse([(end_x - r, end_y - r), (end_x + r, end_y + r)], fill=colour)


def _draw_labels(draw, points: list[tuple[datetime, float]], colour: str, zone: ZoneInfo) -> None:
    """0/50/100 on the left, the first and last dates below, the last value at the end."""
    label, value = _font(LABEL_PX), _font(VALUE_PX)
    for p in (0, 50, 100):
        at_y = TOP + (BOTTOM - TOP) * (HIGH - p) / (HIGH - LOW)
        draw.text((LEFT - 6, at_y), str(p), fill=MUTED, font=label, anchor="rm")
    draw.text((LEFT, BOTTOM + 6), _day_month(points[0][0].astimezone(zone)), fill=MUTED,
              font=label, anchor="lt")
    draw.text((RIGHT, BOTTOM + 6), _day_month(points[-1][0].astimezone(zone)), fill=MUTED,
              font=label, anchor="rt")
    last = 100 * points[-1][1]
    at_y = TOP + (BOTTOM - TOP) * (HIGH - last) / (HIGH - LOW)
    # The bundled font has no bold face: drawn twice, a pixel apart, it reads as bold.
    for nudge in (0, 1):
        draw.text((RIGHT + 14 + nudge, at_y), f"{last:.0f}%", fill=colour, font=value,
                  anchor="lm")


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size)


def _tint(colour: str) -> tuple[int, int, int]:
    """``colour`` at TINT over white."""
    channels = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(round(255 + (c - 255) * TINT) for c in channels)


def _day_month(moment: datetime) -> str:
    from tracker.digest.render import MONTHS

    return f"{moment.day} {MONTHS[moment.month - 1][:3]}"


# The expected-hits chart: the email's full width (600 CSS pixels), drawn at twice that so
# it is sharp on a dense screen; the client scales it down, which smooths its lines.
HITS_WIDTH, HITS_HEIGHT = 1200, 440
HITS_LEFT, HITS_TOP, HITS_RIGHT, HITS_BOTTOM = 76, 16, 1176, 386
HITS_LINE_PX, HITS_LABEL_PX = 5, 24


def hits_png(hits: HitsChart, timezone: str = "UTC") -> bytes:
    """The PNG of everyone's expected hits over the year, as the web page draws it: a
    step line a person, in the colour the page gives them (by name), to the newest
    snapshot; the scale from 0 in four round steps; the first and last dates below
    (in ``timezone``) and each month's between."""
    from PIL import Image, ImageDraw

    from tracker.digest.render import person_colour
    from tracker.hits import round_step

    times = list(hits.times)
    end = times[-1]
    first = times[0] if len(times) > 1 else end - timedelta(days=1)
    drawn = times if len(times) > 1 else [first]  # one moment: held from a day before
    step = round_step(v for line in hits.lines for v in line.values)
    span = max((end - first).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return HITS_LEFT + (HITS_RIGHT - HITS_LEFT) * (at - first).total_seconds() / span

    def y(value: float) -> float:
        return HITS_BOTTOM - (HITS_BOTTOM - HITS_TOP) * value / (4 * step)

    image = Image.new("RGB", (HITS_WIDTH, HITS_HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    label = _font(HITS_LABEL_PX)
    for i in range(5):
        at_y = y(step * i)
        draw.line([(HITS_LEFT, at_y), (HITS_RIGHT, at_y)], fill=GUIDE, width=2)
        draw.text((HITS_LEFT - 10, at_y), f"{step * i:g}", fill=MUTED, font=label, anchor="rm")
    _hits_dates(draw, first, end, x, label, ZoneInfo(timezone))
    for i, line in reversed(list(enumerate(hits.lines))):  # the first name on top
        steps = [(x(drawn[0]), y(line.values[0]))]
        for at, (before, value) in zip(drawn[1:], pairwise(line.values), strict=True):
            steps += [(x(at), y(before)), (x(at), y(value))]
        if drawn[-1] < end:
            steps.append((x(end), steps[-1][1]))
        draw.line(steps, fill=person_colour(i), width=HITS_LINE_PX)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _hits_dates(draw, first: datetime, end: datetime, x, font, zone: ZoneInfo) -> None:
    """The first and last dates at the ends, each month's name between where it clears them."""
    from tracker.digest.render import MONTHS

    base = HITS_BOTTOM + 12
    draw.text((HITS_LEFT, base), _day_month(first.astimezone(zone)), fill=MUTED, font=font,
              anchor="lt")
    draw.text((HITS_RIGHT, base), _day_month(end.astimezone(zone)), fill=MUTED, font=font,
              anchor="rt")
    month = datetime(first.year, first.month, 1, tzinfo=first.tzinfo)
    while True:
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1,
                         tzinfo=first.tzinfo)
        if month >= end:
            return
        at = x(month)
        if HITS_LEFT + 130 < at < HITS_RIGHT - 130:  # clear of the dates at the ends
            draw.text((at, base), MONTHS[month.month - 1][:3], fill=MUTED, font=font,
                      anchor="mt")


def charts_for(digest: Digest) -> dict[str, bytes]:
    """Prediction id -> PNG, for the predictions the digest draws (``digest.charted``),
    and the expected-hits chart under ``HITS_CHART`` whenever a snapshot is stored."""
    from tracker.digest.content import HITS_CHART

    charts = {line.id: chart_png(line, digest.generated_at, digest.timezone)
              for line in digest.charted}
    if digest.hits is not None and digest.hits.lines:
        charts[HITS_CHART] = hits_png(digest.hits, digest.timezone)
    return charts
