"""``estimate``: the value a series releases for the period ``on`` lies within ``range``
(low, high), or within ``tolerance`` of ``value``; both ends count. Right or wrong once a
point dated ``on`` exists.

An estimate reports its error: how far the released number is from ``value``, or how far
outside the range it fell. Until the release, status is a nowcast: on_track when the latest
released value lies within the bounds, with no probability.

A prediction that names ``nowcast`` and ``levels`` (annual real GDP growth) gets a
probability from the ``gdp-nowcast`` model instead (tracker/evaluate/gdp_nowcast.py), on
track at 50% or more; once the number is out it is right or wrong with probability 1 or 0,
and the line says that the first estimate decides and, after the deadline, that the verdict
is final.

Revisions: stored points hold the latest revision only, so this module reads whatever
value is stored. The first right or wrong verdict is kept in a snapshot, and the
evaluation job lets no later revision flip it (tracker.service.evaluation.first_release_stands).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate import gdp_nowcast, guards
from tracker.evaluate.released import (
    nowcast,
    number,
    period,
    point_on,
    signed,
    span,
    unavailable,
    within,
)
from tracker.evaluate.result import Evaluation, SeriesInput, Status

if TYPE_CHECKING:
    from tracker.registry.schema import Estimate


def evaluate(prediction: Estimate, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    series = guards.series_of(inputs, prediction.series)
    low, high = prediction.bounds()
    on = prediction.on
    used = {"on": on.isoformat(), "low": low, "high": high}
    if prediction.range is None:
        needs = f"needs {number(prediction.value)} ± {number(prediction.tolerance)}"
    else:
        needs = f"needs {span(low, high)}"

    released = point_on(series, on)
    if released:
        v = released.value
        inside = within(v, low, high)
        said = f"{series.name} released {series.show(v)} for {period(on, series.points)}"
        if prediction.range is None:
            error = v - prediction.value
            explanation = (
                f"{said} vs estimate {number(prediction.value)}: off by {signed(error)} "
                f"(tolerance {number(prediction.tolerance)})"
            )
        else:
            error = 0.0 if inside else (v - high if v > high else v - low)
            where = "inside" if inside else (
                f"{number(abs(error))} {'above' if error > 0 else 'below'} the range"
            )
            explanation = f"{said}, {where} {span(low, high)}"
        if prediction.nowcast:
            explanation += gdp_nowcast.decided(prediction, now)
        return Evaluation(
            Status.RIGHT if inside else Status.WRONG,
            explanation,
            probability=(1.0 if inside else 0.0) if prediction.nowcast else None,
            value=v,
            value_at=released.ts,
            inputs={**used, "released": v, "error": round(error, 9)},
        )

    if prediction.nowcast:
        return gdp_nowcast.evaluate_open(prediction, inputs, low, high, needs, used, now)
    last = guards.latest(series)
    if missing := unavailable(series, on):
        return guards.no_data(missing, last)
    return Evaluation(
        Status.ON_TRACK if within(last.value, low, high) else Status.OFF_TRACK,
        nowcast(series, on, needs),
        inputs={**used, "latest": last.value, "latest_on": last.ts.date().isoformat()},
        **guards.headline(last),
    )
