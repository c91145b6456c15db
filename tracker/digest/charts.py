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


def charts_for(digest: Digest) -> dict[str, bytes]:
    """Prediction id -> PNG, for the predictions the digest draws (``digest.charted``)."""
    return {line.id: chart_png(line, digest.generated_at, digest.timezone)
            for line in digest.charted}
