"""How well chances matched outcomes: Brier and log scores and a reliability table, for a
set of forecasts of claims that have resolved. Pure: forecasts in, figures out.

A forecast is a chance that a claim comes true, the outcome (1 right, 0 wrong; void
claims are never forecasts here) and a weight: 1 for a person's call priced on the day
it was made, the time it held for one of tracker's own snapshots. Chances are clipped to
CLIP first, as on the scoreboard, so that one near-certain forecast cannot dominate and
a log score stays finite. Both scores are losses: lower is better. Every figure carries
the number of resolved claims it rests on.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from tracker.scoreboard import CLIP
from tracker.verdicts import SETTLED

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

BINS = 10  # the reliability table's bins of forecast chance: 0-10%, 10-20%, ...
DAY = 86400.0

# tracker's models, by the name each stores in a snapshot's `model`, grouped by the kind
# of claim they price. A name not listed is "other".
GROUPS = ("touch", "race", "outperform", "rank", "market", "composite", "other")
MODEL_GROUPS = {
    "lognormal-touch": "touch",
    "lognormal-race": "race",
    "normal-spread": "outperform",
    "bootstrap-rank": "rank",
    "poisson-binomial": "composite",
    "any-of-lower-bound": "composite",
}

# What the figures mean, under them in the terminal and on the page.
KEY = (
    "Brier: the mean of (chance - outcome)^2; log score: the mean of -ln(chance given\n"
    "to what happened); lower is better for both. Chances are clipped to 1%-99%.\n"
    "Reliability: forecasts by chance, with how often those claims came true; a\n"
    "well-calibrated forecaster's 70% comes true 7 times in 10.\n"
)


def model_group(model: str | None) -> str:
    if model and model.startswith("market:"):
        return "market"
    return MODEL_GROUPS.get(model or "", "other")


class Forecast(NamedTuple):
    claim: str  # the prediction's id
    probability: float
    outcome: int  # 1: right, 0: wrong
    weight: float = 1.0


@dataclass(frozen=True)
class Bin:
    """One row of a reliability table: forecasts with a chance in [low, high)."""

    low: float
    high: float
    forecasts: int
    claims: int
    weight: float
    mean_forecast: float
    observed: float  # the (weighted) share that came true

    def as_dict(self) -> dict:
        return {"from": self.low, "to": self.high, "forecasts": self.forecasts,
                "claims": self.claims, "weight": round(self.weight, 6),
                "mean_forecast": round(self.mean_forecast, 6),
                "observed": round(self.observed, 6)}


@dataclass(frozen=True)
class Figures:
    """The scores of one set of forecasts; None for a set with none."""

    forecasts: int
    claims: int  # resolved claims the figures rest on
    weight: float
    brier: float | None
    log_score: float | None
    bins: tuple[Bin, ...]

    def as_dict(self) -> dict:
        return {"claims": self.claims, "forecasts": self.forecasts,
                "weight": round(self.weight, 6),
                "brier": None if self.brier is None else round(self.brier, 6),
                "log_score": None if self.log_score is None else round(self.log_score, 6),
                "bins": [b.as_dict() for b in self.bins]}


def clipped(probability: float) -> float:
    return min(max(probability, CLIP[0]), CLIP[1])


def figures(forecasts: Iterable[Forecast]) -> Figures:
    """Weighted mean Brier score ((p - outcome)^2), weighted mean log score (-ln of the
    chance given to what happened) and the reliability table of ``forecasts``; a
    forecast of no weight counts for nothing."""
    kept = [f._replace(probability=clipped(f.probability)) for f in forecasts if f.weight > 0]
    total = sum(f.weight for f in kept)
    if not kept or total <= 0:
        return Figures(0, 0, 0.0, None, None, ())
    brier = sum(f.weight * (f.probability - f.outcome) ** 2 for f in kept) / total
    log = sum(f.weight * -math.log(f.probability if f.outcome else 1.0 - f.probability)
              for f in kept) / total
    return Figures(len(kept), len({f.claim for f in kept}), total, brier, log, _bins(kept))


def _bins(forecasts: Sequence[Forecast]) -> tuple[Bin, ...]:
    """The non-empty bins, lowest first; a chance of exactly 1 falls in the top bin."""
    grouped: dict[int, list[Forecast]] = {}
    for f in forecasts:
        grouped.setdefault(min(int(f.probability * BINS), BINS - 1), []).append(f)
    out = []
    for index in sorted(grouped):
        members = grouped[index]
        weight = sum(f.weight for f in members)
        out.append(Bin(index / BINS, (index + 1) / BINS, len(members),
                       len({f.claim for f in members}), weight,
                       sum(f.weight * f.probability for f in members) / weight,
                       sum(f.weight * f.outcome for f in members) / weight))
    return tuple(out)


class Snapshot(NamedTuple):
    """What is scored of a stored snapshot."""

    at: datetime
    status: str
    probability: float | None
    model: str | None


def snapshot_forecasts(claim: str, outcome: int,
                       history: Sequence[Snapshot]) -> list[tuple[str, Forecast]]:
    """Each open snapshot of a resolved claim that gave a chance, as a forecast weighted by
    the days it held (until the claim's next snapshot, the resolving one included), with
    its model's group. Snapshots of a settled status forecast nothing."""
    out = []
    for snap, following in itertools.pairwise(history):
        if snap.probability is None or snap.status in SETTLED:
            continue
        days = (following.at - snap.at).total_seconds() / DAY
        out.append((model_group(snap.model), Forecast(claim, snap.probability, outcome, days)))
    return out
