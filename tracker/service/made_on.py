"""The price on the day a claim was made: what the market or the model gave a prediction
at the end of its made_on day, the baseline the scoreboard and the digest hold the claim
against.

It is evaluated from the points up to the end of that day, read from the evaluator's
lookback before the prediction's start (``needed_since``), never up to now; a series
that only market calls read gives just its newest points at that moment. Every
evaluation (``evaluate_all``: a poll, a backfill, the daemon) keeps the prices of the
days at least KEEP_AFTER past in the made_on_price table, and never evaluates a kept
price again. Readers (``made_on_prices``) look them up in one query and evaluate only
the predictions that have none kept yet, without storing anything: read commands change
nothing in the database.

A kept price is keyed by ``definition_keys``: a hash of what the made_on evaluation reads
from the registry, the prediction's fields and those of its parts (recursively), all but
the words people read (UNKEYED). Another made_on date, series, kind or rule gives another
key, and the price is evaluated again; a reworded claim keeps its price. KEY_VERSION is
hashed too: raise it when a change to an evaluator should re-price every claim.

A prediction without a price then (no data yet, settled that day, a manual call) is
kept as such, with how many points each series it reads had in its window: the next
evaluation after that number changed (a backfill added history) tries again.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from db import queries
from tracker.evaluate import SeriesInput
from tracker.freshness import RECENT
from tracker.registry import Registry
from tracker.registry.labels import label
from tracker.service.evaluation import (
    OPEN_STATUSES,
    evaluate_registry,
    inputs_as_of,
    latest_only,
    needed_since,
)
from tracker.service.freshness import points_of
from tracker.units import unit_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from db.reads import Confirmation
    from tracker.registry.schema import PredictionBase

KEEP_AFTER = timedelta(days=1)  # a day's last bars and polls are stored by then
KEY_VERSION = 1
UNKEYED = frozenset({"who", "claim", "notes", "category", "scored"})


def made_on_prices(engine: Engine, registry: Registry) -> dict[str, float]:
    """Each prediction's price at the end of its made_on day, where it had one: the kept
    price, or for a prediction with none kept for its definition (its day is not past
    yet, it was added or edited since the last evaluation), evaluated now. A prediction
    already settled that day, or with no data then, gets no price."""
    keys = definition_keys(registry)
    kept = queries.made_on_price_rows(engine, keys)
    prices = {pid: row.price for pid, row in kept.items()
              if row.definition == keys[pid] and row.price is not None}
    unkept = [p for p in registry if p.id not in kept or kept[p.id].definition != keys[p.id]]
    found = evaluate_prices(engine, registry, unkept)
    prices |= {pid: price for pid, price in found.items() if price is not None}
    return prices


def keep_prices(engine: Engine, registry: Registry, now: datetime) -> None:
    """Evaluate and keep the made_on price of each prediction whose day is KEEP_AFTER
    past and that has none kept for its definition; try again those kept without a price
    whose series have gained or lost points in their window since."""
    keys = definition_keys(registry)
    kept = queries.made_on_price_rows(engine, keys)
    candidates = [p for p in registry if day_end(p.made_on) + KEEP_AFTER <= now
                  and (p.id not in kept or kept[p.id].definition != keys[p.id]
                       or kept[p.id].price is None)]
    if not candidates:
        return
    # Counted before the points are read: a point stored in between changes the next count.
    evidence = _evidence(engine, registry, candidates)
    due = [p for p in candidates if p.id not in kept or kept[p.id].definition != keys[p.id]
           or kept[p.id].evidence != evidence[p.id]]
    prices = evaluate_prices(engine, registry, due)
    queries.keep_made_on_prices(engine, [
        {"prediction_id": p.id, "definition": keys[p.id], "price": prices[p.id],
         "evidence": evidence[p.id] if prices[p.id] is None else None, "checked_at": now}
        for p in due
    ])


def day_end(day: date) -> datetime:
    """The last second of a UTC day: the moment a made_on price is taken."""
    return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(seconds=1)


def evaluate_prices(engine: Engine, registry: Registry,
                    predictions: Iterable[PredictionBase]) -> dict[str, float | None]:
    """The made_on price of each of ``predictions`` (None: none), evaluated day by day
    with their parts, from the points of their windows (``_windows``) only."""
    by_day: dict[date, list[PredictionBase]] = defaultdict(list)
    for prediction in predictions:
        by_day[prediction.made_on].append(prediction)
    prices: dict[str, float | None] = {}
    # A market's odds are stored only when they change: its confirmations say it was seen.
    confirmed = queries.confirmations(engine) if by_day else {}
    for day, made in sorted(by_day.items()):
        when = day_end(day)
        evaluated = with_parts(registry, made)
        inputs = _inputs_at(engine, evaluated, when, confirmed)
        results = evaluate_registry(Registry(tuple(evaluated)), inputs, when)
        for prediction in made:
            result = results[prediction.id]
            priced = result.status in OPEN_STATUSES and result.probability is not None
            prices[prediction.id] = result.probability if priced else None
    return prices


def _windows(predictions: list[PredictionBase], when: datetime) -> dict[str, tuple[datetime, datetime]]:
    """What a made_on evaluation of ``predictions`` at ``when`` reads of each series: from
    the evaluators' lookback to ``when``."""
    return {sid: (since, when) for sid, since in needed_since(predictions).items()}


def _inputs_at(engine: Engine, predictions: list[PredictionBase], when: datetime,
               confirmed: dict[str, Confirmation]) -> dict[str, SeriesInput]:
    """The series of ``predictions`` as they stood at ``when`` (``inputs_as_of``), read
    within their windows; a series only market calls read, as its newest points then.
    ``confirmed``: the markets' confirmations (``queries.confirmations``)."""
    windows = _windows(predictions, when)
    newest = latest_only(predictions)
    points = queries.points_between(engine, {sid: window for sid, window in windows.items()
                                             if sid not in newest})
    points |= {sid: points_of(rows) for sid, rows in queries.newest_points_until(
        engine, sorted(newest & windows.keys()), RECENT, when).items()}
    rows = queries.series_by_id(engine, windows)
    inputs = {}
    for series_id in windows:
        row = rows.get(series_id)
        inputs[series_id] = SeriesInput(
            series_id, points[series_id],
            label=label(series_id, row.name if row else None),
            unit=unit_of(series_id, row.unit if row else None),
            state=row.state if row else None,
            confirmation=confirmed.get(series_id),
        )
    return inputs_as_of(inputs, when)


def _evidence(engine: Engine, registry: Registry,
              predictions: list[PredictionBase]) -> dict[str, str]:
    """For each prediction, how many points each series its made_on evaluation reads has
    in its window, as JSON: counted in the index, one query per distinct window."""
    index = {p.id: p for p in registry}
    windows = {p.id: _windows(_closure(index, [p]), day_end(p.made_on)) for p in predictions}
    by_window: dict[tuple[datetime, datetime], set[str]] = defaultdict(set)
    for series_windows in windows.values():
        for sid, window in series_windows.items():
            by_window[window].add(sid)
    counts = {}
    for window, ids in by_window.items():
        for sid, count in queries.count_points_between(engine, dict.fromkeys(ids, window)).items():
            counts[sid, window] = count
    return {pid: json.dumps({sid: counts[sid, window] for sid, window in sorted(series.items())})
            for pid, series in windows.items()}


def with_parts(registry: Registry, predictions: Iterable[PredictionBase]) -> list[PredictionBase]:
    """``predictions`` and the parts they are made of (the parts' parts too), in registry
    order: parts before the composites that use them."""
    wanted = {p.id for p in _closure({p.id: p for p in registry}, predictions)}
    return [p for p in registry if p.id in wanted]


def _closure(index: dict[str, PredictionBase],
             predictions: Iterable[PredictionBase]) -> list[PredictionBase]:
    """``predictions`` and their parts, recursively, in no particular order."""
    found: dict[str, PredictionBase] = {}
    todo = [p.id for p in predictions]
    while todo:
        pid = todo.pop()
        if pid not in found and pid in index:
            found[pid] = index[pid]
            todo.extend(index[pid].part_ids())
    return list(found.values())


# The keys of the registry seen last: the daemon evaluates the same registry every poll.
_keys_of: tuple[Registry | None, dict[str, str]] = (None, {})


def definition_keys(registry: Registry) -> dict[str, str]:
    """Each prediction's key: the hash of what its made_on evaluation reads from the
    registry (see the module's docstring)."""
    global _keys_of
    seen, keys = _keys_of
    if seen is not registry:
        index = {p.id: p for p in registry}
        keys = {p.id: _key(_closure(index, [p]), p) for p in registry}
        _keys_of = (registry, keys)
    return keys


def _key(evaluated: list[PredictionBase], prediction: PredictionBase) -> str:
    fields = {p.id: p.model_dump(mode="json", exclude=UNKEYED) for p in evaluated}
    text = json.dumps([KEY_VERSION, prediction.id, fields], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
