"""``race``: ``target`` is touched before ``against``. Right when the target comes first,
wrong when ``against`` does; void when one bar touches both (no finer data stored) or
when the deadline passes with neither touched.

Probability while open: P(target first before the deadline) from the driftless log-space
model (models.prob_race); without a deadline that is the gambler's ruin
ln(against/S)/ln(against/target). The snapshot also records P(against first) and
P(neither). Status is on_track when the target is the likelier of the two to come first.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate import guards, models
from tracker.evaluate.result import Evaluation, SeriesInput, Status, pct, years_until_end_of
from tracker.evaluate.touch import describe, reaches

if TYPE_CHECKING:
    from tracker.points import Point
    from tracker.registry.schema import Race


def evaluate(prediction: Race, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    series = inputs[prediction.series]
    target, against = prediction.target, prediction.against
    window = series.between(prediction.start, prediction.deadline)
    last = guards.latest(series)

    if settled := _first_barrier(series, window, target, against):
        return settled  # decided stays decided, however stale the series is now
    if why := guards.short_of_deadline(series, window, prediction.deadline, now):
        return guards.no_data(why, last)
    if now.date() > prediction.deadline:
        return Evaluation(
            Status.VOID,
            f"deadline {prediction.deadline} passed with neither {series.show(target)} "
            f"nor {series.show(against)} touched",
            **guards.headline(last),
        )
    if why := guards.why_unusable(series):
        return guards.no_data(why, last)
    return _estimate(prediction, series, now)


def _estimate(prediction: Race, series: SeriesInput, now: datetime) -> Evaluation:
    """An open race on fresh data: where the price stands between the two levels, and the
    chance that the target comes first."""
    target, against = prediction.target, prediction.against
    last = series.points[-1]
    headline = guards.headline(last)
    spot = last.value
    progress = (against - spot) / (against - target)
    where = (
        f"{series.name} {series.show(spot)}: {pct(progress)} of the way "
        f"from {series.show(against)} to {series.show(target)}"
    )
    sigma, returns = models.realised_vol(series.points)
    years = years_until_end_of(prediction.deadline, now)
    inputs_used = {
        "spot": spot,
        "sigma": round(sigma, 6),
        "returns": returns,
        "years": round(years, 6),
        "as_of": last.ts.isoformat(),
    }
    if sigma == 0:
        return Evaluation(
            Status.ON_TRACK if progress >= 0.5 else Status.OFF_TRACK,
            f"{where}; the series has not moved lately, so no probability",
            inputs=inputs_used, **headline,
        )
    p_target, p_against, p_neither = models.prob_race(spot, target, against, sigma, years)
    inputs_used |= {"p_against": round(p_against, 6), "p_neither": round(p_neither, 6)}
    return Evaluation(
        Status.ON_TRACK if p_target > p_against else Status.OFF_TRACK,
        f"{where}; P({series.show(target)} first) {pct(p_target)}, "
        f"P({series.show(against)} first) {pct(p_against)}, neither {pct(p_neither)}",
        probability=p_target,
        model="lognormal-race",
        inputs=inputs_used,
        **headline,
    )


def _first_barrier(
    series: SeriesInput, window: list[Point], target: float, against: float
) -> Evaluation | None:
    """The verdict of the first bar that touches a barrier: right, wrong, or void when one
    bar touches both; None while neither has been touched."""
    target_above = target > against  # the target is reached from below
    for point in window:
        hit_target = reaches(point, target, above=target_above)
        hit_against = reaches(point, against, above=not target_above)
        if hit_target and hit_against:
            return Evaluation(
                Status.VOID,
                f"{series.name} touched both {series.show(target)} and {series.show(against)} "
                f"on {point.ts.date()}; no finer data to tell which came first",
                value=point.value,
                value_at=point.ts,
            )
        hit = hit_target or hit_against
        if hit:
            level = target if hit_target else against
            return Evaluation(
                Status.RIGHT if hit_target else Status.WRONG,
                f"{series.name} reached {series.show(level)} first: {describe(hit, series.show)}",
                probability=1.0 if hit_target else 0.0,
                value=hit.price,
                value_at=point.ts,
                inputs={"touched_on": hit.day.isoformat(), "used": hit.used},
            )
    return None
