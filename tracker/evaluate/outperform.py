"""``outperform``: the return of ``series`` (or of an equal-weight ``basket``) from
``start`` to ``deadline`` beats (direction=over) or trails (under) the ``benchmark``'s
(one series, or an equal-weight basket when a list). Returns run from the close on or
before start to the close on or before the deadline (see returns.py); right when the
final spread, side return minus benchmark return, is above zero (over) or below it
(under). A spread of exactly zero beats nothing, so it is wrong either way.

Headline value: the current spread as a fraction (0.12 = the side is 12 percentage
points ahead; tracker.units.PERCENTAGE_POINTS).

Probability while open: a normal model of the log spread D = ln(1+R_side) -
ln(1+R_benchmark). Assumptions: D moves as a driftless Brownian motion (no view on which
side does better from here) with a constant volatility, the realised volatility of the
spread over the last 60 daily steps on the dates every series shares (a basket's step is
the mean of its members' log returns), measured per calendar year as models.realised_vol
does (squared moves over the calendar time they span, no mean subtracted), and time to
the deadline is calendar time. So P(over) = Phi(D / (sigma sqrt T)), P(under) = 1 - that;
with no volatility or no time left, today's sign of D decides. Status is on_track when
that probability is at least 50%; without enough common history for a volatility, it
is on_track when the side stands where it must finish.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate import guards, models
from tracker.evaluate.result import Evaluation, SeriesInput, Status, pct, years_until_end_of
from tracker.evaluate.returns import (
    common_log_returns,
    equal_weight,
    legs,
    signed,
)

if TYPE_CHECKING:
    from tracker.registry.schema import Outperform

SPREAD_WINDOW = 60  # daily steps of the spread used for its volatility


def prob_right(log_spread: float, sigma: float, years: float, over: bool) -> float:
    """P(the log spread ends above zero (over) or below it (under)), D_T ~ N(D, sigma^2 T):
    Phi(D / (sigma sqrt T)) for over, 1 - that for under."""
    if sigma <= 0 or years <= 0:
        return float(log_spread > 0 if over else log_spread < 0)
    z = log_spread / (sigma * math.sqrt(years))
    return models.norm_cdf(z if over else -z)


def spread_vol(side: list[SeriesInput], bench: list[SeriesInput]) -> tuple[float | None, int]:
    """(Annualised volatility of the daily log spread, steps used); None without steps."""
    history = common_log_returns([s.daily_closes for s in side + bench], SPREAD_WINDOW)
    k = len(side)
    spreads = [
        sum(row[:k]) / k - sum(row[k:]) / (len(row) - k) for row in history.rows
    ]
    if not spreads or history.span_years <= 0:
        return None, 0
    return math.sqrt(sum(x * x for x in spreads) / history.span_years), len(spreads)


def _name(series: list[SeriesInput]) -> str:
    if len(series) == 1:
        return series[0].name
    return f"basket ({', '.join(s.name for s in series)})"


def _standing(spread: float) -> str:
    if spread > 0:
        return f"ahead by {100 * spread:.1f} percentage points"
    if spread < 0:
        return f"behind by {100 * -spread:.1f} percentage points"
    return "level"


def evaluate(prediction: Outperform, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    side = [guards.series_of(inputs, i) for i in prediction.members()]
    bench = [guards.series_of(inputs, i) for i in prediction.benchmark_members()]
    start, deadline = prediction.start, prediction.deadline
    found, problem = legs(side + bench, start, deadline, now)
    if problem:
        return guards.no_data(problem)

    side_ret = equal_weight([found[s.series_id].ret for s in side])
    bench_ret = equal_weight([found[s.series_id].ret for s in bench])
    spread = side_ret - bench_ret
    over = prediction.direction == "over"
    wanted = "ahead" if over else "behind"
    holds = spread > 0 if over else spread < 0
    as_of = max(leg.end.ts for leg in found.values())
    headline = {"value": spread, "value_at": as_of}
    compared = f"{_name(side)} {signed(side_ret)} vs {_name(bench)} {signed(bench_ret)}"
    inputs_used = {
        "side_return": round(side_ret, 6),
        "benchmark_return": round(bench_ret, 6),
        "closes": {series_id: leg.record() for series_id, leg in found.items()},
    }

    if now.date() > deadline:
        needed = "" if holds else f" (needed to finish {wanted})"
        return Evaluation(
            Status.RIGHT if holds else Status.WRONG,
            f"{compared} from {start} to {deadline}: {_standing(spread)}{needed}",
            probability=1.0 if holds else 0.0,
            inputs=inputs_used,
            **headline,
        )

    log_spread = math.log1p(side_ret) - math.log1p(bench_ret)
    sigma, steps = spread_vol(side, bench)
    years = years_until_end_of(deadline, now)
    inputs_used |= {
        "log_spread": round(log_spread, 6),
        "sigma": None if sigma is None else round(sigma, 6),
        "returns": steps,
        "years": round(years, 6),
        "as_of": as_of.isoformat(),
    }
    where = f"{compared} since {start}: {_standing(spread)}"
    if sigma is None:
        return Evaluation(
            Status.ON_TRACK if holds else Status.OFF_TRACK,
            f"{where}; no common price history to model the spread, so no probability",
            inputs=inputs_used,
            **headline,
        )
    p = prob_right(log_spread, sigma, years, over)
    chance = f"stays {wanted} to" if holds else f"ends {wanted} by"
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"{where}; {pct(p)} chance it {chance} {deadline}",
        probability=p,
        model="normal-spread",
        inputs=inputs_used,
        **headline,
    )
