"""``level``: the value a series releases for the period ``on`` is at or above (direction
above) or at or below (below) ``target``. Right or wrong once a point dated ``on`` exists
(probability 1 or 0); only that released number decides.

Until then status is a nowcast: on_track when the latest released value is already
beyond the target. With a linked ``market`` that has prices, its latest price of
``market_side`` is the probability and decides the status instead (on_track at 50% or
more); a market resolved yes or no gives probability 1 or 0, but the prediction stays
open until its number is released. Without usable market odds, a prediction that names
``nowcast`` and ``levels`` (annual real GDP growth) gets its probability from the
``gdp-nowcast`` model (tracker/evaluate/gdp_nowcast.py; see ``estimate`` on which release
decides and on revisions). Otherwise there is no probability.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from math import inf
from typing import TYPE_CHECKING, Any

from tracker.evaluate import gdp_nowcast, guards
from tracker.evaluate.released import nowcast, number, period, point_on, unavailable
from tracker.evaluate.result import Evaluation, SeriesInput, Status, pct

if TYPE_CHECKING:
    from tracker.registry.schema import Level


def evaluate(prediction: Level, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    series = guards.series_of(inputs, prediction.series)
    above = prediction.direction == "above"
    needs = f"{'>=' if above else '<='} {number(prediction.target)}"
    on = prediction.on
    used = {"on": on.isoformat(), "target": prediction.target, "direction": prediction.direction}

    def beyond(value: float) -> bool:
        return value >= prediction.target if above else value <= prediction.target

    released = point_on(series, on)
    if released:
        hit = beyond(released.value)
        decided = gdp_nowcast.decided(prediction, now) if prediction.nowcast else ""
        return Evaluation(
            Status.RIGHT if hit else Status.WRONG,
            f"{series.name} released {series.show(released.value)} for "
            f"{period(on, series.points)} (needed {needs}){decided}",
            probability=1.0 if hit else 0.0,
            value=released.value,
            value_at=released.ts,
            inputs={**used, "released": released.value},
        )

    last = guards.latest(series)
    missing = unavailable(series, on)
    if missing and last and last.ts.date() > on:  # `on` was skipped: no market can fix that
        return guards.no_data(missing, last)
    if missing is None:
        used |= {"latest": last.value, "latest_on": last.ts.date().isoformat()}
    where = missing or nowcast(series, on, f"needs {needs}")

    p, odds, market_used = _market(prediction, inputs)
    if p is not None:
        return Evaluation(
            Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
            f"{where}; {odds}",
            probability=p,
            model=f"market:{prediction.market.split(':', 1)[0]}",
            inputs=used | market_used,
            **guards.headline(last),
        )
    if prediction.nowcast:
        low, high = (prediction.target, inf) if above else (-inf, prediction.target)
        result = gdp_nowcast.evaluate_open(prediction, inputs, low, high, f"needs {needs}",
                                           used, now)
        return replace(result, explanation=f"{result.explanation}; {odds}") if odds else result
    if missing:
        return guards.no_data(f"{missing}; {odds}" if odds else missing, last)
    return Evaluation(
        Status.ON_TRACK if beyond(last.value) else Status.OFF_TRACK,
        f"{where}; {odds}" if odds else where,
        inputs=used,
        **guards.headline(last),
    )


def _market(
    prediction: Level, inputs: dict[str, SeriesInput]
) -> tuple[float | None, str | None, dict[str, Any]]:
    """The linked market's probability for the level, a line about it, and what was read.
    The probability is None when there is no market or its odds cannot be used."""
    if not prediction.market:
        return None, None, {}
    market = inputs.get(prediction.market)
    if market is None:
        return None, None, {}
    yes = prediction.market_side == "yes"
    won = market.resolved_value
    if market.state == "resolved" and won in (0.0, 1.0):
        p = won if yes else 1.0 - won
        outcome = "yes" if won == 1.0 else "no"
        return (
            p,
            f"{market.name} resolved {outcome} (the released number still decides)",
            {"market_state": market.state, "market_resolved": won},
        )
    if market.state in ("resolved", "void"):
        return None, f"{market.name} settled without a yes or no, so no probability", {}
    if why := guards.why_empty(market, "odds"):
        return None, why, {}
    last = market.points[-1]
    if market.stale:
        return None, f"{market.name} odds are stale (last {market.last_seen:%Y-%m-%d %H:%M} UTC)", {}
    p = last.value if yes else 1.0 - last.value
    return (
        p,
        f"{market.name} gives {prediction.market_side} {pct(p)}",
        {"yes_price": last.value, "market_as_of": last.ts.isoformat(),
         "market_state": market.state},
    )
