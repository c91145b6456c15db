"""``rank``: ``series`` has the best (position=best) or worst (worst) return from
``start`` to ``deadline`` among itself and its rivals in ``universe``. Returns run from
the close on or before start to the close on or before the deadline (see returns.py). A
tie counts for the series: it is best when no rival did strictly better, worst when no
rival did strictly worse.

Headline value: the series' current place by return, 1 = best (ties share a place).

Probability while open: Monte Carlo, bootstrapping whole days. The history is the last
(up to) 250 daily steps on the dates every series shares, each step the vector of all
the series' log returns, so their correlation is kept. A path draws as many steps, with
replacement, as trading days remain (the history's steps per calendar day times the
calendar days to the end of the deadline, at least one), adds their sum to each series'
log return since start, and counts whether the series holds its position. Assumptions:
driftless, as the other models (models.py): each series' mean daily log return over the
history is taken out first, so the draws keep the size, shape (fat tails) and
correlation of past moves but not their trend (a year of bootstrapped history would
otherwise carry its own rally forward and swamp everything else); days are independent
and distributed as in the recent past, volatility unchanged to the deadline; each
series' dates outside the common ones are skipped, their moves folded into the next
common step. 5,000 paths from a fixed seed, so a result is reproducible (one standard
error is at most 0.7 points); with numpy, a whole simulation is one matrix product.
When the series share fewer than MIN_COMMON_STEPS dates (a monthly home-price index among
daily prices), the steps run between the sparsest series' dates instead, every other
series read at its last close on or before each. Status is on_track when that probability
is at least 50%; without two common dates to draw from, it is on_track when the series
holds its position today.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from tracker.evaluate import guards
from tracker.evaluate.result import Evaluation, SeriesInput, Status, pct, years_until_end_of
from tracker.evaluate.returns import (
    DAYS_PER_YEAR,
    CommonReturns,
    close_on_or_before,
    coarse_log_returns,
    common_log_returns,
    legs,
    signed,
)
from tracker.points import Point
from tracker.units import NUMBER

if TYPE_CHECKING:
    from tracker.registry.schema import Rank

HISTORY = 250  # daily steps drawn from
MIN_COMMON_STEPS = 20  # fewer shared dates than this: step on the sparsest series' dates
PATHS = 5000
SEED = 20260101


def steps_left(history: CommonReturns, years: float) -> int:
    """Trading days to go: the history's steps per calendar day times the days left."""
    days = (history.dates[-1] - history.dates[0]).days
    return max(1, round(len(history.rows) / days * years * DAYS_PER_YEAR))


def prob_position(
    history: CommonReturns,
    current: Sequence[float],
    steps: int,
    best: bool,
    paths: int = PATHS,
    seed: int = SEED,
) -> float:
    """P(the first series ends best (or worst)) by bootstrap. ``history.rows`` and
    ``current`` (log returns since start) list the ranked series first, rivals after.

    Only the rivals' returns relative to the ranked series matter, so each day is kept
    as the rivals' log returns minus the series', less their mean over the history
    (driftless): the series ends best when every rival's lead (today's plus the path's)
    is at most zero.
    """
    return _simulated(tuple(history.rows), tuple(current), steps, best, paths, seed)


# The simulation is deterministic (a fixed seed), and between two daily closes the
# daemon asks the same question at every poll: the same inputs get the kept answer.
# Bounded: a few entries per rank claim.
@functools.lru_cache(maxsize=256)
def _simulated(rows: tuple[tuple[float, ...], ...], current: tuple[float, ...], steps: int,
               best: bool, paths: int, seed: int) -> float:
    import numpy as np  # here, not at the top: the CLI starts without it

    history = np.asarray(rows, dtype=float)
    relative = history[:, 1:] - history[:, :1]
    days = relative - relative.mean(axis=0)
    leads = np.asarray(current[1:], dtype=float) - current[0]
    rng = np.random.default_rng(seed)
    # Summing ``steps`` days drawn with replacement is weighting each day by how often it
    # was drawn: count the draws per path, then one (float, so BLAS) matrix product.
    n = len(days)
    picks = rng.integers(0, n, size=(paths, steps)) + n * np.arange(paths)[:, None]
    counts = np.bincount(picks.ravel(), minlength=paths * n).reshape(paths, n).astype(float)
    ends = leads + counts @ days
    hits = (ends.max(axis=1) <= 0) if best else (ends.min(axis=1) >= 0)
    return float(hits.mean())


def _among(prediction: Rank) -> str:
    return f" among {prediction.universe_name}" if prediction.universe_name else ""


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def basket_series(members: list[SeriesInput], start: date) -> SeriesInput:
    """An equal-weight basket as one series: on the dates every member has, the mean of
    each member's close over its close on or before ``start`` (1.0 at the start).
    Rebalanced to equal weights at the start, not thereafter, as returns.equal_weight."""
    bases = [close_on_or_before(m.points, start) for m in members]
    name = f"basket ({', '.join(m.name for m in members)})"
    basket_id = "basket:" + "+".join(m.series_id for m in members)
    stale = any(m.stale for m in members)
    if any(b is None or b.value <= 0 for b in bases):
        return SeriesInput(basket_id, [], stale=stale, label=name)
    closes = [{p.ts: p.value for p in m.points} for m in members]
    shared = sorted(set(closes[0]).intersection(*closes[1:]))
    points = [Point(ts, sum(c[ts] / b.value for c, b in zip(closes, bases)) / len(bases))
              for ts in shared]
    return SeriesInput(basket_id, points, stale=stale, label=name, unit=NUMBER)


def evaluate(prediction: Rank, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    if prediction.basket:
        members = [guards.series_of(inputs, i) for i in prediction.basket]
        own = basket_series(members, prediction.start)
    else:
        own = guards.series_of(inputs, prediction.series)
    inputs = {**inputs, own.series_id: own}
    ids = [own.series_id, *prediction.rivals()]
    series = [guards.series_of(inputs, i) for i in ids]
    start, deadline = prediction.start, prediction.deadline
    found, problem = legs(series, start, deadline, now)
    if problem:
        return guards.no_data(problem)

    best = prediction.position == "best"
    rets = {i: found[i].ret for i in ids}
    mine = rets[own.series_id]
    rivals = prediction.rivals()
    place = 1 + sum(rets[r] > mine for r in rivals)
    holds = all(rets[r] <= mine for r in rivals) if best else all(rets[r] >= mine for r in rivals)
    foil = (max if best else min)(rivals, key=rets.__getitem__)
    ahead_of_me = rets[foil] > mine if best else rets[foil] < mine
    as_of = max(leg.end.ts for leg in found.values())
    headline = {"value": float(place), "value_at": as_of}
    name = own.name
    foil_name = found[foil].series.name
    where = f"{ordinal(place)} of {len(ids)} by return{_among(prediction)}"
    inputs_used = {
        "series_returns": {i: round(r, 6) for i, r in rets.items()},
        "place": place,
        "closes": {i: leg.record() for i, leg in found.items()},
    }

    if now.date() > deadline:
        verb = ("led" if best else "trailed") if ahead_of_me else "next"
        return Evaluation(
            Status.RIGHT if holds else Status.WRONG,
            f"{name} finished {where} from {start} to {deadline}, {signed(mine)} "
            f"({foil_name} {verb}, {signed(rets[foil])})",
            probability=1.0 if holds else 0.0,
            inputs=inputs_used,
            **headline,
        )

    verb = ("leads" if best else "trails") if ahead_of_me else "next"
    standing = (
        f"{name} is {where} since {start}, {signed(mine)} "
        f"({foil_name} {verb}, {signed(rets[foil])})"
    )
    history = common_log_returns([s.daily_closes for s in series], HISTORY)
    if len(history.rows) < MIN_COMMON_STEPS:  # a monthly series among daily ones
        history = coarse_log_returns([s.points for s in series], HISTORY)
    years = years_until_end_of(deadline, now)
    inputs_used |= {
        "returns": len(history.rows),
        "years": round(years, 6),
        "as_of": as_of.isoformat(),
    }
    if not history.rows:
        return Evaluation(
            Status.ON_TRACK if holds else Status.OFF_TRACK,
            f"{standing}; no common price history to simulate, so no probability",
            inputs=inputs_used,
            **headline,
        )
    steps = steps_left(history, years)
    current = [math.log1p(rets[i]) for i in ids]
    p = prob_position(history, current, steps, best)
    inputs_used |= {"steps": steps, "paths": PATHS, "seed": SEED}
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"{standing}; {pct(p)} chance it ends {prediction.position}",
        probability=p,
        model="bootstrap-rank",
        inputs=inputs_used,
        **headline,
    )
