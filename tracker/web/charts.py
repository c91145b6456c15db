"""A claim's history chart on its page: its probability where it has one (with the price
on the day it was made marked), else its headline value; the same choice and the same
window as `tracker show` draws in the terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup

from tracker.digest.render import LINE_COLOURS
from tracker.formats import percent, short, timestamp
from tracker.units import headline_unit, show
from tracker.views.show import held_until, window_span
from tracker.web.svg import Marker, probability_scale, step_chart, value_scale

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
