"""The reliability diagram on /calibration, drawn on the server as SVG in the style of
svg.py (presentation attributes, no ``style``; every text escaped): the mean chance of
each bin of forecasts across, how often they came true up, the diagonal where the two
agree. A dot's area grows with the bin's share of the weight."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

from tracker.web.svg import FONT, GRID, INK, MUTED

SIZE = 320
EDGE, FOOT = 44, 36  # room for the scale on the left and below
INNER = SIZE - EDGE - 22  # and room on the right for the last tick
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def reliability_chart(bins: list[dict[str, Any]], title: str, colour: str = "#0969da") -> Markup:
    """The diagram of ``bins`` (``calibration.Bin.as_dict``, lowest first)."""

    def x(share: float) -> float:
        return round(EDGE + INNER * share, 1)

    def y(share: float) -> float:
        return round(12 + INNER * (1.0 - share), 1)

    parts = [(f'<svg class="chart reliability" viewBox="0 0 {SIZE} {SIZE}" '
             f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
             f'font-family="{FONT}" font-size="12"><title>{escape(title)}</title>')]
    for tick in TICKS:
        label = f"{100 * tick:.0f}%"
        parts += [(f'<line x1="{x(0)}" x2="{x(1)}" y1="{y(tick)}" y2="{y(tick)}" '
                  f'stroke="{GRID}" stroke-width="1"/>'),
                  (f'<text x="{x(0) - 6}" y="{y(tick) + 4}" text-anchor="end" '
                  f'fill="{MUTED}">{label}</text>'),
                  (f'<text x="{x(tick)}" y="{y(0) + 16}" text-anchor="middle" '
                  f'fill="{MUTED}">{label}</text>')]
    parts += [(f'<line class="diagonal" x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" '
              f'stroke="{MUTED}" stroke-width="1" stroke-dasharray="5 4"/>'),
              (f'<text x="{x(0.5)}" y="{SIZE - 4}" text-anchor="middle" fill="{INK}">'
              "chance given</text>"),
              (f'<text x="12" y="{y(0.5)}" text-anchor="middle" fill="{INK}" '
              f'transform="rotate(-90 12 {y(0.5)})">came true</text>')]
    total = sum(b["weight"] for b in bins) or 1.0
    if len(bins) > 1:
        path = "".join(f"{'M' if i == 0 else 'L'}{x(b['mean_forecast'])},{y(b['observed'])}"
                       for i, b in enumerate(bins))
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for b in bins:
        radius = round(3 + 9 * math.sqrt(b["weight"] / total), 1)
        parts.append(f'<circle class="bin" cx="{x(b["mean_forecast"])}" cy="{y(b["observed"])}" '
                     f'r="{radius}" fill="{colour}" fill-opacity="0.7" stroke="#ffffff" '
                     f'stroke-width="1"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
