"""The calibration figures `tracker calibration` prints and /calibration shows, from the
database: each person's resolved calls scored at the price on the day each was made, and
tracker's own chances (every snapshot of a claim since resolved, weighted by the time it
held) by model group. Reads the newest snapshot of every claim, the made_on prices, and
the snapshots of resolved claims only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from db import queries
from tracker.calibration import GROUPS, Forecast, Snapshot, figures, snapshot_forecasts
from tracker.service.made_on import made_on_prices
from tracker.verdicts import HIT_OR_MISS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tracker.registry import Registry


def calibration_report(engine: Engine, registry: Registry) -> dict[str, Any]:
    """``people``: a row per person with resolved priced calls, by name, then everyone's
    calls together; ``models``: a row per model group with forecasts, in GROUPS order,
    then all of them together. Each row: its name and ``calibration.Figures.as_dict``."""
    latest = queries.latest_snapshots(engine)
    outcomes = {p.id: int(latest[p.id].status == "right") for p in registry
                if p.id in latest and latest[p.id].status in HIT_OR_MISS}
    return {"people": _people(registry, outcomes, made_on_prices(engine, registry)),
            "models": _models(engine, outcomes)}


def _people(registry: Registry, outcomes: dict[str, int],
            prices: dict[str, float]) -> list[dict[str, Any]]:
    calls: dict[str, list[Forecast]] = {}
    for prediction in registry:
        if prediction.scored and prediction.id in outcomes and prediction.id in prices:
            calls.setdefault(prediction.who, []).append(
                Forecast(prediction.id, prices[prediction.id], outcomes[prediction.id]))
    rows = [{"who": who, **figures(found).as_dict()} for who, found in sorted(calls.items())]
    everyone = [f for found in calls.values() for f in found]
    return [*rows, {"who": None, **figures(everyone).as_dict()}]


def _models(engine: Engine, outcomes: dict[str, int]) -> list[dict[str, Any]]:
    by_group: dict[str, list[Forecast]] = {group: [] for group in GROUPS}
    for pid, rows in queries.claims_snapshots(engine, sorted(outcomes)).items():
        history = [Snapshot(row.at, row.status, row.probability, row.model) for row in rows]
        for group, forecast in snapshot_forecasts(pid, outcomes[pid], history):
            by_group[group].append(forecast)
    rows = [{"model": group, **figures(found).as_dict()}
            for group, found in by_group.items() if found]
    every = [f for found in by_group.values() for f in found]
    return [*rows, {"model": None, **figures(every).as_dict()}]
