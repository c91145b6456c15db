"""Small PNG charts of a prediction's probability for the digest: 300x90 CSS pixels drawn
at 2x, the 0-100% scale fixed so charts compare at a glance, a faint 50% guide and the
last value written at the end of the line.

matplotlib is imported inside the functions (the CLI must start fast) and used through
its object-oriented Figure API with the Agg canvas, never pyplot: no global figure
registry, no GUI backend, safe from the daemon's threads.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tracker.digest.content import Digest, Line

WIDTH_IN, HEIGHT_IN, DPI = 3.0, 0.9, 200  # 600x180 pixels, shown at 300x90
INK = "#1f2328"
MUTED = "#8c959f"
GUIDE = "#d8dee4"


def chart_png(line: Line, until: datetime | None = None, timezone: str = "UTC") -> bytes:
    """The PNG of ``line.history`` (at least one point) as a step line, 0-100%. A value
    holds until the next one, so the last is drawn on to ``until`` (the digest's time;
    without it, a short stretch past the last point, so the last step shows). Dates are
    labelled in ``timezone``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import num2date
    from matplotlib.figure import Figure

    from tracker.digest.render import LINE_COLOURS

    points = sorted((at, p) for at, p in line.history if p is not None)
    if not points:
        raise ValueError(f"{line.id}: no history to chart")
    last_at, last = points[-1]
    span = last_at - points[0][0]
    if until is None or until <= last_at:
        until = last_at + max(span / 40, timedelta(hours=1))
    points.append((until, last))
    times = [at for at, _ in points]
    values = [100 * p for _, p in points]
    colour = LINE_COLOURS.get(line.status, INK)

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # Room on the left for the 0/50/100 labels, on the right for the last value.
    axes = figure.add_axes((0.085, 0.2, 0.78, 0.74))
    axes.set_facecolor("white")
    axes.axhline(50, color=GUIDE, linewidth=0.7, dashes=(3, 2), zorder=1)
    axes.step(times, values, where="post", color=colour, linewidth=1.3, zorder=3,
              solid_joinstyle="miter")
    axes.fill_between(times, values, step="post", color=colour, alpha=0.08, linewidth=0,
                      zorder=2)
    axes.plot([times[-1]], [values[-1]], marker="o", markersize=2.6, color=colour, zorder=4)
    axes.annotate(f"{values[-1]:.0f}%", xy=(times[-1], values[-1]), xytext=(5, 0),
                  textcoords="offset points", va="center", ha="left", fontsize=8,
                  fontweight="bold", color=colour, annotation_clip=False)

    axes.set_ylim(-2, 102)  # a line at 0 or 100% is drawn whole, not clipped in half
    axes.set_yticks([0, 50, 100])
    axes.set_yticklabels(["0", "50", "100"])
    axes.set_xlim(times[0], times[-1])
    axes.set_xticks([times[0], times[-1]])
    axes.xaxis.set_major_formatter(
        lambda x, _pos: _day_month(num2date(x, tz=ZoneInfo(timezone))))
    axes.tick_params(axis="both", length=0, labelsize=6.5, colors=MUTED, pad=2)
    # The dates sit inside the ends of the axis, clear of the 0 on the left.
    first, end = axes.get_xticklabels()
    first.set_horizontalalignment("left")
    end.set_horizontalalignment("right")
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GUIDE)
    axes.spines["bottom"].set_linewidth(0.7)

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    figure.clear()
    return out.getvalue()


def _day_month(moment: datetime) -> str:
    from tracker.digest.render import MONTHS

    return f"{moment.day} {MONTHS[moment.month - 1][:3]}"


def charts_for(digest: Digest) -> dict[str, bytes]:
    """Prediction id -> PNG, for the predictions the digest draws (``digest.charted``)."""
    return {line.id: chart_png(line, digest.generated_at, digest.timezone)
            for line in digest.charted}
