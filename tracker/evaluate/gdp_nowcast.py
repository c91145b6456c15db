"""``gdp-nowcast``: before a year's real GDP growth is released, the chance that its first
estimate lands within a claim's bounds.

Used by ``estimate`` and ``level`` when a prediction names its nowcast inputs: ``levels``
(quarterly real GDP in chained dollars, FRED GDPC1) and ``nowcast`` (a nowcast of a
quarter's annualised real growth in percent, FRED GDPNOW, dated by the quarter's start).

The annual figure (FRED A191RL1A225NBEA) is the growth of the year's average level:

    A = 100 * (sum of the year's four quarterly levels / sum of the previous year's - 1)

BEA's annual chained-dollar total differs from the sum of its quarters by a few hundredths
of a point at most: GDPC1 gives 2.8 for 2024 and 2.1 for 2025, as A191RL1A225NBEA does.

Each of the eight quarters (the previous year's and the year's) is one of:
- released: its level is in ``levels``;
- nowcast: not released, but ``nowcast`` has a value for it; its annualised growth is
  normal around that value with SD_NOWCAST;
- assumed: neither; normal around the mean annualised growth of the year's released
  quarters (the latest nowcast when none is released yet) with SD_ASSUMED.
Unknown quarters chain from the last released level. A is close to linear in the unknown
growth rates (annualised growth g lifts a quarter's level by about g/4 percent), so it is
treated as normal around its value at the central growth rates, with the linearised spread
sqrt(sum (dA/dg_i * sd_i)^2); a fixed-seed simulation in the tests agrees to a point or two
of probability.

The release is rounded to one decimal, so P(low <= release <= high) is
P(low - 0.05 <= A < high + 0.05).

Which release decides: the first estimate of the year's growth (for 2026, published with
the Q4 advance estimate in late January 2027). The evaluators read that value as stored;
see ``estimate`` for what happens to later revisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from tracker.evaluate import guards
from tracker.evaluate.models import norm_cdf
from tracker.evaluate.result import Evaluation, SeriesInput, Status
from tracker.points import Point

if TYPE_CHECKING:
    from tracker.registry.schema import Estimate, Level

MODEL = "gdp-nowcast"

# A quarter GDPNow covers. The Atlanta Fed's GDPNow page gives the root-mean-squared error
# of its final nowcast against BEA's advance estimate since 2011 as about 1.2 points
# (Deutsche Bank counted 0.9 in 2015: ritholtz.com/2015/05/now-tracking-gdp). Our recorded
# GDPNOW (2011Q3-2024Q4, 2020-21 left out) against today's revised GDPC1 gives 1.5,
# revisions included. An early nowcast is rougher, a final one finer: 1.2 is the middle.
SD_NOWCAST = 1.2
# A quarter with no nowcast at all: annualised growth in GDPC1 had a standard deviation of
# 1.6 points in 2011-2019 and 1.7 in 2022-2025; the mean it is assumed to follow is itself
# uncertain, hence 2.0.
SD_ASSUMED = 2.0
RELEASE_STEP = 0.1  # the annual growth rate is published to one decimal
_SLOPE_STEP = 0.01  # points of annualised growth, for the slopes of A


@dataclass(frozen=True)
class Quarter:
    """One quarter not released yet: its assumed annualised growth and spread."""

    start: date
    growth: float
    sd: float
    source: str  # "nowcast" or "assumed"


@dataclass(frozen=True)
class AnnualNowcast:
    year: int
    released: tuple[float, ...]  # levels released, from Q1 of the previous year on
    unknown: tuple[Quarter, ...]  # the quarters after them, up to Q4 of the year
    assumed_growth: float | None  # what quarters with no nowcast follow

    @property
    def mean(self) -> float:
        return annual_growth(self.released, [q.growth for q in self.unknown])

    @property
    def sd(self) -> float:
        spreads = [q.sd for q in self.unknown]
        return math.sqrt(sum((slope * sd) ** 2 for slope, sd in zip(self._slopes(), spreads,
                                                                    strict=True)))

    def _slopes(self) -> list[float]:
        """dA/dg for each unknown quarter, by central differences."""
        growths = [q.growth for q in self.unknown]
        slopes = []
        for i in range(len(growths)):
            up = [g + _SLOPE_STEP * (j == i) for j, g in enumerate(growths)]
            down = [g - _SLOPE_STEP * (j == i) for j, g in enumerate(growths)]
            rise = annual_growth(self.released, up) - annual_growth(self.released, down)
            slopes.append(rise / (2 * _SLOPE_STEP))
        return slopes

    def probability(self, low: float, high: float) -> float:
        """P(the release, rounded to one decimal, lies in [low, high]); either bound may
        be infinite."""
        low, high = low - RELEASE_STEP / 2, high + RELEASE_STEP / 2
        mean, sd = self.mean, self.sd
        if sd == 0:  # every quarter released: only the annual number itself is missing
            return float(low <= mean < high)
        z_low, z_high = (low - mean) / sd, (high - mean) / sd
        if z_low > 0:  # both bounds above the mean: upper tails keep their precision
            return max(0.0, norm_cdf(-z_low) - norm_cdf(-z_high))
        return max(0.0, norm_cdf(z_high) - norm_cdf(z_low))

    def describe(self, levels_name: str, nowcast_name: str) -> str:
        """'nowcast 2.4% from GDPC1 through 2026Q3 and GDPNow 3.1% for 2026Q4'."""
        through = _name(self._last_released())
        parts = [f"nowcast {self.mean:.1f}% from {levels_name} through {through}"]
        parts += [f"{nowcast_name} {q.growth:.1f}% for {_name(q.start)}"
                  for q in self.unknown if q.source == "nowcast"]
        assumed = [q.start for q in self.unknown if q.source == "assumed"]
        if assumed:
            parts.append(f"{self.assumed_growth:.1f}% assumed for {_names(assumed)}")
        if len(parts) == 1:
            return parts[0]
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    def inputs(self) -> dict:
        """What the model read, for the snapshot."""
        return {
            "nowcast_mean": round(self.mean, 4),
            "nowcast_sd": round(self.sd, 4),
            "released_through": self._last_released().isoformat(),
            "quarters": [
                {"quarter": _name(q.start), "growth": round(q.growth, 4), "sd": q.sd,
                 "source": q.source}
                for q in self.unknown
            ],
        }

    def _last_released(self) -> date:
        return quarter_starts(self.year)[len(self.released) - 1]

    def latest_input(self) -> date:
        """The newest quarter the model has a number for (released or nowcast)."""
        nowcast = [q.start for q in self.unknown if q.source == "nowcast"]
        return max([self._last_released(), *nowcast])


def quarter_starts(year: int) -> list[date]:
    """The first days of the eight quarters of ``year - 1`` and ``year``."""
    return [date(y, m, 1) for y in (year - 1, year) for m in (1, 4, 7, 10)]


def annual_growth(released: tuple[float, ...], growths: list[float]) -> float:
    """Annual-average growth in percent, chaining the unknown quarters' annualised growth
    from the last released level."""
    levels = list(released)
    for g in growths:
        levels.append(levels[-1] * (1 + g / 100) ** 0.25)
    return 100 * (sum(levels[4:]) / sum(levels[:4]) - 1)


def build(year: int, levels: list[Point], nowcasts: list[Point]) -> AnnualNowcast | str:
    """The model for ``year`` from stored points, or why there is none."""
    quarters = quarter_starts(year)
    level_on = {p.ts.date(): p.value for p in levels}
    released = []
    for start in quarters:  # a run from Q1 of the previous year: unknowns chain from its end
        if start not in level_on:
            break
        released.append(level_on[start])
    if not released:
        return f"no quarterly level for {_name(quarters[0])} yet"
    nowcast_on = {p.ts.date(): p.value for p in nowcasts}
    todo = quarters[len(released):]
    covered = [nowcast_on[s] for s in todo if s in nowcast_on]
    assumed = _assumed_growth(released, covered)
    if assumed is None and len(covered) < len(todo):
        return f"no {year} quarter released and no nowcast to go on"
    unknown = tuple(
        Quarter(s, nowcast_on[s], SD_NOWCAST, "nowcast") if s in nowcast_on
        else Quarter(s, assumed, SD_ASSUMED, "assumed")
        for s in todo
    )
    return AnnualNowcast(year, tuple(released), unknown, assumed)


def _assumed_growth(released: list[float], covered: list[float]) -> float | None:
    """Mean annualised growth of the year's released quarters, else the latest nowcast."""
    # the year's quarters are released[4:], each grown from the one before it
    grown = [100 * ((after / before) ** 4 - 1) for before, after in pairwise(released[3:])]
    if grown:
        return sum(grown) / len(grown)
    return covered[-1] if covered else None


def evaluate_open(prediction: Level | Estimate, inputs: dict[str, SeriesInput], low: float,
                  high: float, needs: str, used: dict[str, Any], now: datetime) -> Evaluation:
    """Status and probability while the year's number is not out: on track at 50% or more."""
    levels = guards.series_of(inputs, prediction.levels)
    nowcasts = guards.series_of(inputs, prediction.nowcast)
    waiting = f"{prediction.on.year} not released yet"
    if now.date() > prediction.deadline:
        waiting += f" (past the deadline {prediction.deadline}; the first estimate still decides)"
    for series in (levels, nowcasts):
        if why := guards.why_unusable(series):
            return guards.no_data(f"{waiting}; {why}")
    model = build(prediction.on.year, levels.points, nowcasts.points)
    if isinstance(model, str):
        return Evaluation(Status.NO_DATA, f"{waiting}; no nowcast: {model}")
    p = model.probability(low, high)
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"{waiting}; {model.describe(levels.name, nowcasts.name)} ({needs}): {chance(p)} chance",
        probability=p,
        value=round(model.mean, 2),
        value_at=datetime.combine(model.latest_input(), time(), UTC),
        model=MODEL,
        inputs=used | model.inputs() | {"levels": prediction.levels, "nowcast": prediction.nowcast},
    )


def decided(prediction: Level | Estimate, now: datetime) -> str:
    """What a verdict from the released number adds to its explanation line."""
    if now.date() > prediction.deadline:
        return f"; final since the deadline {prediction.deadline}: later revisions do not count"
    return "; the first estimate decides"


def chance(p: float) -> str:
    """A probability for people: never '0%' or '100%' for what is merely unlikely."""
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{100 * p:.0f}%"


def _quarter(start: date) -> int:
    return (start.month + 2) // 3


def _name(start: date) -> str:
    return f"{start.year}Q{_quarter(start)}"


def _names(starts: list[date]) -> str:
    """2026Q4, 2026Q2-Q4, or 2025Q4-2026Q4."""
    first, last = starts[0], starts[-1]
    if first == last:
        return _name(first)
    end = f"Q{_quarter(last)}" if first.year == last.year else _name(last)
    return f"{_name(first)}-{end}"
