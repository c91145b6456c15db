"""Evaluate every prediction against stored data and keep a snapshot when it changed."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from db import queries
from tracker.evaluate import Evaluation, SeriesInput, Status, evaluate, manual
from tracker.freshness import RECENT, confirmed_stale, series_stale
from tracker.registry.labels import label
from tracker.service.freshness import points_of, staleness
from tracker.service.notify import evaluation_write
from tracker.units import unit_of

if TYPE_CHECKING:
    from collections.abc import Iterable
    
    from tracker.config import Settings
    from tracker.registry import Registry

log = logging.getLogger("tracker.evaluate")

OPEN_STATUSES = {Status.ON_TRACK, Status.OFF_TRACK}
PROBABILITY_EPSILON = 0.001  # smaller moves are noise: no new snapshot
# The daemon's poll jobs run in threads; two evaluating at once would both see the same
# "previous" snapshot and store the same change twice.
_evaluation_lock = threading.Lock()


# Evaluators look back from a prediction's start: the close on or before it, and up to a
# year of daily returns before it for the volatility and rank models.
LOOKBACK = timedelta(days=400)
LATEST_ONLY_KINDS = {"market"}  # kinds whose evaluator reads only a series' newest point


def needed_since(predictions) -> dict[str, datetime]:
    """For each series, the earliest time any of these predictions reads."""
    since: dict[str, datetime] = {}
    for prediction in predictions:
        first = _lookback_from(prediction.start)
        for series_id in prediction.series_ids():
            since[series_id] = min(first, since.get(series_id, first))
    return since


def _lookback_from(start) -> datetime:
    """LOOKBACK before ``start``; from the first representable day when that is earlier
    (the schema bounds dates, this keeps a poll alive should one slip through)."""
    try:
        return datetime.combine(start, time(), UTC) - LOOKBACK
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def latest_only(predictions) -> set[str]:
    """Series that only ``market`` predictions read: their evaluator reads the newest
    price, while a market polled every 5 minutes stores 105,000 prices a year."""
    history = {sid for p in predictions if p.kind not in LATEST_ONLY_KINDS for sid in p.series_ids()}
    return {sid for p in predictions for sid in p.series_ids()} - history


def load_inputs(
    engine: Engine, series_ids: Iterable[str], now: datetime, settings: Settings | None = None,
    since: dict[str, datetime] | None = None, newest_only: set[str] = frozenset(),
) -> dict[str, SeriesInput]:
    """Every series as the evaluators see it: its points (from ``since``, per series, when
    given; all otherwise; the newest RECENT for those in ``newest_only``), its freshness,
    its name and market state."""
    series_ids = list(series_ids)
    since = since or {}
    rows = queries.series_by_id(engine, series_ids)
    newest = queries.newest_points(engine, series_ids, RECENT)
    loaded = queries.points_since(engine, {sid: since.get(sid) for sid in series_ids
                                           if sid not in newest_only})
    points = {series_id: loaded[series_id] if series_id in loaded else points_of(newest[series_id])
              for series_id in series_ids}
    confirmed = queries.confirmations(engine)
    stale = staleness(engine, series_ids, now, settings, newest=newest, confirmed=confirmed)
    inputs = {}
    for series_id in series_ids:
        row = rows.get(series_id)
        inputs[series_id] = SeriesInput(
            series_id,
            points[series_id],
            stale=stale[series_id],
            label=label(series_id, row.name if row else None),
            unit=unit_of(series_id, row.unit if row else None),
            state=row.state if row else None,
            resolved_value=row.resolved_value if row else None,
            confirmation=confirmed.get(series_id),
        )
    return inputs


def _changed(previous, current: Evaluation) -> bool:
    if previous is None:
        return True
    if previous.status != current.status or previous.value != current.value:
        return True
    if previous.model != current.model:
        return True
    if current.model == "manual" and previous.explanation != current.explanation:
        return True  # a verdict given again with a new note
    if current.status == Status.OPEN and previous.explanation != current.explanation:
        return True  # a manual claim's reason (or its wording) changed: nothing else would
    if (previous.probability is None) != (current.probability is None):
        return True
    if current.probability is None:
        return False
    return abs(previous.probability - current.probability) > PROBABILITY_EPSILON


def evaluate_all(
    engine: Engine, registry: Registry, now: datetime, settings: Settings | None = None
) -> dict[str, Evaluation]:
    """Evaluate every prediction; store a snapshot for those whose state changed.
    ``settings`` (the poll intervals) lets a series go stale when its source fails."""
    with _evaluation_lock:
        return _evaluate_all(engine, registry, now, settings)


def evaluate_registry(
    registry: Registry, inputs: dict[str, SeriesInput], now: datetime, verdicts: dict | None = None,
    previous: dict | None = None,
) -> dict[str, Evaluation]:
    """Every prediction's evaluation, parts before the composites that use them; a manual
    verdict (a row with outcome, note, resolved_at) overrides the automatic result, and a
    released number's first verdict (``previous``: the latest snapshots) stands."""
    verdicts = verdicts or {}
    previous = previous or {}
    results: dict[str, Evaluation] = {}
    for prediction in registry:
        try:
            result = evaluate(prediction, inputs, now, parts=results)
        except Exception as exc:  # one broken evaluator must not stop the others
            log.exception("evaluating %s failed", prediction.id)
            result = Evaluation(Status.NO_DATA, f"evaluation failed: {exc}")
        result = first_release_stands(prediction, previous.get(prediction.id), result)
        verdict = verdicts.get(prediction.id)
        if verdict is not None:
            result = manual.override(result, verdict.outcome, verdict.note, verdict.resolved_at)
        results[prediction.id] = result
    return results


RELEASE_KINDS = {"estimate", "level"}
DECIDED = {Status.RIGHT.value, Status.WRONG.value}


def first_release_stands(prediction, previous, result: Evaluation) -> Evaluation:
    """A released number's first estimate decides: when a later revision of the stored
    value would flip the verdict the data already gave, the first verdict stands."""
    if prediction.kind not in RELEASE_KINDS or previous is None:
        return result
    if previous.status not in DECIDED or previous.model == "manual":
        return result
    if result.status.value not in DECIDED or result.status.value == previous.status:
        return result
    revised = f"; since revised to {result.value:g}" if result.value is not None else ""
    return Evaluation(
        Status(previous.status),
        f"{previous.explanation} (the first estimate decides{revised})",
        probability=previous.probability,
        value=previous.value,
        value_at=previous.value_at,
        model=previous.model,
        inputs={"first_estimate": previous.value, "revised": result.value},
    )


def inputs_as_of(inputs: dict[str, SeriesInput], when: datetime) -> dict[str, SeriesInput]:
    """The inputs as they stood at ``when``: later points dropped, markets not yet settled."""
    past = {}
    for series_id, series in inputs.items():
        points = [p for p in series.points if p.ts <= when]
        stale = (series_stale(points, when) if series.confirmation is None
                 else confirmed_stale(series.confirmation, bool(points), when))
        past[series_id] = replace(
            series, points=points, stale=stale,
            state="open" if series.state is not None else None, resolved_value=None,
        )
    return past


def _evaluate_all(
    engine: Engine, registry: Registry, now: datetime, settings: Settings | None
) -> dict[str, Evaluation]:
    inputs = load_inputs(engine, registry.series_ids(), now, settings, needed_since(registry),
                         newest_only=latest_only(registry))
    previous = queries.latest_snapshots(engine)
    results = evaluate_registry(registry, inputs, now, queries.resolutions(engine), previous)
    new_rows = []
    for prediction in registry:
        result = results[prediction.id]
        if _changed(previous.get(prediction.id), result):
            new_rows.append(
                {
                    "prediction_id": prediction.id,
                    "at": now,
                    "status": result.status.value,
                    "probability": result.probability,
                    "value": result.value,
                    "value_at": result.value_at,
                    "explanation": result.explanation,
                    "model": result.model,
                    "inputs": result.inputs or None,
                }
            )
    # The messages these changes are worth, stored with them: both or neither.
    queries.add_snapshots(engine, new_rows,
                          evaluation_write(engine, registry, results, new_rows, now, settings))
    # Imported here: made_on.py evaluates with this module's functions.
    from tracker.service.made_on import keep_prices

    keep_prices(engine, registry, now)
    return results
