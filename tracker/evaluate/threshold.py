"""``threshold``: the series touches (or, with touch=false, closes the deadline) beyond a
target. Right as soon as it touches; wrong when the deadline passes without.

Probability while open: driftless log-normal with recent realised volatility
(see models.py): the reflection principle for a touch, the end distribution otherwise.
Status is on_track when that probability is at least 50%. A rate set at scheduled
meetings (``meetings``, ``step``) is priced meeting by meeting instead (meetings.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tracker.evaluate import guards, meetings, models
from tracker.evaluate.result import Evaluation, SeriesInput, Status, pct, years_until_end_of
from tracker.evaluate.touch import describe, first_touch

if TYPE_CHECKING:
    from tracker.points import Point
    from tracker.registry.schema import Threshold


def evaluate(prediction: Threshold, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    series = inputs[prediction.series]
    window = series.between(prediction.start, prediction.deadline)
    last = guards.latest(series)

    if prediction.touch and (touched := _touched(prediction, series, window)):
        return touched  # decided stays decided, however stale the series is now
    if why := guards.short_of_deadline(series, window, prediction.deadline, now):
        return guards.no_data(why, last)
    if now.date() > prediction.deadline:
        return _at_deadline(prediction, series, window, last)
    if why := guards.why_unusable(series):
        return guards.no_data(why, last)

    if prediction.meetings:
        return _by_meetings(prediction, series, now, **guards.headline(last))
    return _by_lognormal(prediction, series, now, **guards.headline(last))


def _touched(prediction: Threshold, series: SeriesInput, window: list[Point]) -> Evaluation | None:
    """Right from the first point in the window that touches the target; None before one."""
    touch = first_touch(window, prediction.target, prediction.direction == "above")
    if touch is None:
        return None
    return Evaluation(
        Status.RIGHT,
        f"{series.name} reached {series.show(prediction.target)}: {describe(touch, series.show)}",
        probability=1.0,
        value=touch.price,
        value_at=touch.point.ts,
        inputs={"touched_on": touch.day.isoformat(), "used": touch.used},
    )


def _at_deadline(
    prediction: Threshold, series: SeriesInput, window: list[Point], last: Point | None
) -> Evaluation:
    """The verdict once the data reach the deadline: a touch never came, or the close on
    the deadline is (or is not) beyond the target."""
    above = prediction.direction == "above"
    target = series.show(prediction.target)
    if prediction.touch:
        return Evaluation(
            Status.WRONG,
            f"{series.name} never reached {target} by {prediction.deadline}",
            probability=0.0,
            **guards.headline(last),
        )
    final = window[-1]
    hit = final.value >= prediction.target if above else final.value <= prediction.target
    return Evaluation(
        Status.RIGHT if hit else Status.WRONG,
        f"{series.name} closed at {series.show(final.value)} on {final.ts.date()} "
        f"(needed {'>=' if above else '<='} {target})",
        probability=1.0 if hit else 0.0,
        value=final.value,
        value_at=final.ts,
    )


def _by_lognormal(
    prediction: Threshold, series: SeriesInput, now: datetime, **headline: Any
) -> Evaluation:
    """An open claim on a price that wanders: the driftless log-normal model."""
    above = prediction.direction == "above"
    beyond = ">=" if above else "<="
    target = series.show(prediction.target)
    last = series.points[-1]
    sigma, returns = models.realised_vol(series.points)
    years = years_until_end_of(prediction.deadline, now)
    inputs_used = {
        "spot": last.value,
        "target": prediction.target,
        "sigma": round(sigma, 6),
        "returns": returns,
        "years": round(years, 6),
        "as_of": last.ts.isoformat(),
    }
    where = f"{series.name} {series.show(last.value)}, target {beyond} {target}"
    if sigma == 0:
        now_beyond = last.value >= prediction.target if above else last.value <= prediction.target
        return Evaluation(
            Status.ON_TRACK if now_beyond else Status.OFF_TRACK,
            f"{where}; the series has not moved lately, so no probability",
            model=None,
            inputs=inputs_used,
            **headline,
        )
    if prediction.touch:
        p = models.prob_touch(last.value, prediction.target, sigma, years)
        model = "lognormal-touch"
    else:
        p = models.prob_end_beyond(last.value, prediction.target, above, sigma, years)
        model = "lognormal-close"
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"{where} by {prediction.deadline}; {pct(p)} chance (volatility {pct(sigma)}/yr)",
        probability=p,
        model=model,
        inputs=inputs_used,
        **headline,
    )


def _by_meetings(
    prediction: Threshold, series: SeriesInput, now: datetime, **headline: Any
) -> Evaluation:
    above = prediction.direction == "above"
    spot = series.points[-1].value
    step = prediction.step
    needed = meetings.steps_needed(spot, prediction.target, step, above)
    left = meetings.meetings_left(prediction.meetings, now, prediction.deadline)
    per_year = meetings.meetings_per_year(prediction.meetings)
    p_step = meetings.pace(series.points, now, step, above, per_year)
    p = meetings.prob_at_least(needed, len(left), p_step)
    way = "rise" if above else "cut"
    bp = f"{step * 100:g} bp"
    explanation = (
        f"{series.name} {series.show(spot)}: needs {needed} {way}{'s' if needed != 1 else ''} of "
        f"{bp} to reach {series.show(prediction.target)}, {len(left)} meeting"
        f"{'s' if len(left) != 1 else ''} left by {prediction.deadline}; at last year's pace "
        f"of {pct(p_step)} a meeting, {pct(p)} chance"
    )
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        explanation,
        probability=p,
        model="meeting-steps",
        inputs={"spot": spot, "steps_needed": needed,
                "meetings_left": [m.isoformat() for m in left],
                "step_probability": round(p_step, 6), "as_of": series.points[-1].ts.isoformat()},
        **headline,
    )
