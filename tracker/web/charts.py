"""A claim's history chart on its page: its probability where it has one (with the price
on the day it was made marked), else its headline value; the same choice and the same
window as `tracker show` draws in the terminal."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from tracker.digest.render import LINE_COLOURS, PERSON_COLOURS, person_colour
from tracker.formats import percent, short, timestamp
from tracker.textsafe import visible
from tracker.units import USD, headline_unit, show
from tracker.views.show import held_until, window_span
from tracker.web.svg import (
    Level,
    Line,
    Marker,
    count_scale,
    lines_chart,
    probability_scale,
    step_chart,
    value_scale,
)

if TYPE_CHECKING:
    from tracker.hits import HitsChart
    from tracker.registry.schema import PredictionBase

NOT_ENOUGH = "Not enough snapshots to draw yet: one is stored each time something changes."


def history_chart(details: dict[str, Any], made_on_price: float | None) -> Markup | None:
    """The chart of ``details`` (``tracker show ID --json``'s data), or None when its
    history is too short to draw a line."""
    window = window_span((date.fromisoformat(details["chart_window"]["from"]),
                          date.fromisoformat(details["chart_window"]["to"])))
    history, until = details["history"], held_until(details)
    colour = LINE_COLOURS.get(details["status"], LINE_COLOURS["no_data"])
    chances = [(s["at"], s["probability"]) for s in history if s["probability"] is not None]
    if _drawable(chances, history, "probability", until):
        marker = None
        if made_on_price is not None:
            made = window_span((date.fromisoformat(details["made_on"]),) * 2)[1]
            marker = Marker(made, made_on_price, f"{percent(made_on_price)} when made")
        title = (f"Probability of the claim from {timestamp(window[0])} to "
                 f"{timestamp(window[1])}, now {percent(details['probability'])}")
        return step_chart(chances, window, probability_scale(percent), title=title,
                          colour=colour, until=_held(history, "probability", until),
                          marker=marker)
    values = [(s["at"], s["value"]) for s in history if s["value"] is not None]
    if _drawable(values, history, "value", until):
        unit = headline_unit(details["kind"])
        fmt = (lambda v: show(v, unit)) if unit else short
        title = f"Headline value from {timestamp(window[0])} to {timestamp(window[1])}"
        return step_chart(values, window, value_scale([v for _, v in values], fmt),
                          title=title, colour=colour, until=_held(history, "value", until))
    return None


def _held(history: list[dict], column: str, until):
    """Until when the newest snapshot's ``column`` held: only if it has one."""
    return until if history and history[-1][column] is not None else None


def _drawable(points: list, history: list[dict], column: str, until) -> bool:
    """Two snapshots, or one seen to hold until later: a line with a length."""
    held = _held(history, column, until)
    return len(points) >= 2 or (len(points) == 1 and held is not None and held > points[0][0])


def claim_levels(prediction: PredictionBase) -> tuple[set[str], list[tuple[str, float]]]:
    """The series a claim names levels of (its own, and its stand-in where it has one)
    and those levels, each with what it is; none for a kind that names no level."""
    if prediction.kind in ("threshold", "level"):
        levels = [("target", prediction.target)]
    elif prediction.kind == "race":
        levels = [("target", prediction.target), ("against", prediction.against)]
    elif prediction.kind == "estimate":
        low, high = prediction.bounds()
        levels = [("low", low), ("high", high)]
    else:
        return set(), []
    return {prediction.series, prediction.fallback} - {None}, levels


def input_charts(details: dict[str, Any], points: dict[str, list[tuple[datetime, float]]],
                 prediction: PredictionBase) -> list[dict[str, Any]]:
    """A chart of each input series of ``details`` over the claim's window, from its
    ``points`` (read thinned), with the claim's levels drawn on the series they are
    levels of: ``{"id", "name", "chart"}``, chart None when nothing can be drawn."""
    window = window_span((date.fromisoformat(details["chart_window"]["from"]),
                          date.fromisoformat(details["chart_window"]["to"])))
    own, levels = claim_levels(prediction)
    charts = []
    for series in details["series"]:
        sid, unit = series["id"], series["unit"]
        line = points.get(sid, [])

        def fmt(v: float, unit: str = unit) -> str:
            return show(v, unit)

        def tick(v: float, unit: str = unit) -> str:
            return _compact(v, unit)

        drawn = [Level(value, f"{what} {fmt(value)}") for what, value in levels] if sid in own else []
        until = series["last_at"]
        chart = None
        if len(line) >= 2 or (line and until is not None and until > line[0][0]):
            title = (f"{series['name']} from {timestamp(window[0])} to {timestamp(window[1])}"
                     + "".join(f"; {level.label}" for level in drawn))
            scale = value_scale([v for _, v in line] + [level.value for level in drawn], tick)
            chart = step_chart(line, window, scale, title=title, until=until, levels=drawn)
        charts.append({"id": sid, "name": series["name"], "chart": chart,
                       "levels": [level.label for level in drawn]})
    return charts


def _compact(value: float, unit: str) -> str:
    """A tick of an input's scale: as the unit reads, or in thousands or millions when
    that would not fit the margin beside the chart."""
    if abs(value) < 100_000:
        return show(value, unit)
    money = "$" if unit == USD else ""
    if abs(value) < 1_000_000:
        return f"{money}{value / 1000:.0f}k"
    return f"{money}{value / 1_000_000:.3g}M"


DASHES = (None, "8 4", "2 3")  # a second and third round of the colours: dashed, dotted


def hits_chart(chart: HitsChart | None, order: list[str]) -> dict[str, Any] | None:
    """Everyone's expected hits over the year as one chart: ``{"svg", "legend"}``, the
    legend a row a person in ``order`` (the scoreboard's) with their colour, expected
    hits now and the claims they rest on; None with nothing to draw. It ends at the
    newest snapshot (the values stand until the next), so it changes only with the data."""
    if chart is None or not chart.lines:
        return None
    times, end = chart.times, chart.times[-1]
    first = times[0] if len(times) > 1 else end - timedelta(days=1)
    drawn = times if len(times) > 1 else [first]  # one moment: held from a day before
    styled = {}
    for i, line in enumerate(chart.lines):  # by name: a person keeps their colour
        dashes = DASHES[(i // len(PERSON_COLOURS)) % len(DASHES)]
        styled[line.who] = (line, person_colour(i), dashes)
    ranked = [styled[who] for who in order if who in styled]
    ranked += [styled[who] for who in sorted(styled) if who not in order]
    legend = [{"who": line.who, "colour": colour, "dashes": dashes, "now": line.now,
               "claims": line.claims, "resolved": line.resolved}
              for line, colour, dashes in ranked]
    title = (f"Expected hits of each person from {timestamp(first)} to {timestamp(end)}: "
             "calls resolved right plus the chances of those open")
    desc = "; ".join(f"{visible(row['who'])}: {row['now']:.2f} now, of {row['claims']} claims"
                     for row in legend)
    svg = lines_chart([Line(list(zip(drawn, line.values, strict=True)), colour, dashes)
                       for line, colour, dashes in ranked],
                      (first, end), count_scale([v for line in chart.lines for v in line.values]),
                      title=title, until=end, desc=desc)
    return {"svg": svg, "legend": legend}
