"""A stand-in series: a prediction's ``fallback`` (WTI futures fall back to FRED's spot
price, the dollar index to the Fed's broad dollar index) covers for its ``series``.

How it covers depends on what the prediction asks:
- A touch or a race is settled by any point that reaches a level, so it reads the whole
  stored history of both series, a point from either counting. A claim the fallback's
  history settled stays settled while the primary is down and the fallback is weeks old.
- Any other kind (returns, ranks, releases) compares values of one instrument, so the
  fallback is read instead of the primary only while the primary is missing or stale and
  the fallback is fresh.
The explanation says when the fallback was read ("... (from WTI spot: WTI crude is stale)").
"""

from __future__ import annotations

from dataclasses import replace
from operator import attrgetter
from typing import TYPE_CHECKING

from tracker.evaluate import guards
from tracker.evaluate.result import Evaluation, SeriesInput
from tracker.points import Point

if TYPE_CHECKING:
    from tracker.registry.schema import Prediction


def reads_touches(prediction: Prediction) -> bool:
    return prediction.kind == "race" or (
        prediction.kind == "threshold" and prediction.touch
    )


def stand_in(
    prediction: Prediction, inputs: dict[str, SeriesInput]
) -> tuple[dict[str, SeriesInput], str | None]:
    """The inputs to evaluate with, and why the fallback is used (None when it is not)."""
    fallback = getattr(prediction, "fallback", None)
    if not fallback:
        return inputs, None
    primary = guards.series_of(inputs, prediction.series)
    backup = inputs.get(fallback)
    if reads_touches(prediction):
        return _both(prediction.series, primary, backup, inputs)
    if guards.usable(primary) or not guards.usable(backup):
        return inputs, None
    why = "has no data" if not primary.points else "is stale"
    # Keyed and identified as the primary, so evaluators find it where they look.
    standing_in = replace(backup, series_id=prediction.series, label=backup.name)
    return {**inputs, prediction.series: standing_in}, f"from {backup.name}: {primary.name} {why}"


def _both(
    series_id: str, primary: SeriesInput, backup: SeriesInput | None,
    inputs: dict[str, SeriesInput],
) -> tuple[dict[str, SeriesInput], str | None]:
    """One series of both: the primary's bars, widened on days the fallback has a point to
    its range too, and the fallback's points where the primary has none. Fresh when
    either is."""
    if backup is None or not backup.points:
        return inputs, None
    theirs = {p.ts: p for p in backup.points}
    points = [_widen(p, theirs.pop(p.ts)) if p.ts in theirs else p for p in primary.points]
    if points == primary.points and not theirs:
        return inputs, None
    points = sorted([*points, *theirs.values()], key=attrgetter("ts"))
    fresh = guards.usable(primary) or guards.usable(backup)
    merged = replace(primary, points=points, stale=not fresh)
    return {**inputs, series_id: merged}, f"with {backup.name} as well as {primary.name}"


def _widen(own: Point, other: Point) -> Point:
    """The primary's bar, its high and low stretched to take in the other series' bar."""
    highs = [x for x in (own.high, own.value, other.high, other.value) if x is not None]
    lows = [x for x in (own.low, own.value, other.low, other.value) if x is not None]
    high, low = max(highs), min(lows)
    if own.high is None and high == own.value:
        high = None  # nothing beyond the primary's close: it stays a close
    if own.low is None and low == own.value:
        low = None
    return Point(own.ts, own.value, high, low)


def annotate(result: Evaluation, reason: str, fallback: str) -> Evaluation:
    return replace(
        result,
        explanation=f"{result.explanation} ({reason})",
        inputs={**result.inputs, "used_series": fallback},
    )
