"""Evaluate every prediction against stored data and keep a snapshot when it changed."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import Engine

from db import queries
from tracker.evaluate import Evaluation, SeriesInput, Status, evaluate
from tracker.evaluate.staleness import is_stale
from tracker.registry.labels import label
from tracker.sources.base import Point

log = logging.getLogger("tracker.evaluate")

PROBABILITY_EPSILON = 0.001  # smaller moves are noise: no new snapshot
# The daemon's poll jobs run in threads; two evaluating at once would both see the same
# "previous" snapshot and store the same change twice.
_evaluation_lock = threading.Lock()


def load_inputs(engine: Engine, series_ids, now: datetime) -> dict[str, SeriesInput]:
    series_ids = list(series_ids)
    rows = queries.series_rows(engine, series_ids)
    inputs = {}
    for series_id in series_ids:
        points = [
            Point(row.ts, row.value, row.high, row.low)
            for row in queries.series_points(engine, series_id)
        ]
        row = rows.get(series_id)
        inputs[series_id] = SeriesInput(
            series_id,
            points,
            stale=is_stale(points, now),
            label=label(series_id, row.name if row else None),
            state=row.state if row else None,
            resolved_value=row.resolved_value if row else None,
        )
    return inputs


def _changed(previous, current: Evaluation) -> bool:
    if previous is None:
        return True
    if previous.status != current.status or previous.value != current.value:
        return True
    if (previous.probability is None) != (current.probability is None):
        return True
    if current.probability is None:
        return False
    return abs(previous.probability - current.probability) > PROBABILITY_EPSILON


def evaluate_all(engine: Engine, registry, now: datetime) -> dict[str, Evaluation]:
    """Evaluate every prediction; store a snapshot for those whose state changed."""
    with _evaluation_lock:
        return _evaluate_all(engine, registry, now)


def _evaluate_all(engine: Engine, registry, now: datetime) -> dict[str, Evaluation]:
    inputs = load_inputs(engine, registry.series_ids(), now)
    previous = queries.latest_snapshots(engine)
    results: dict[str, Evaluation] = {}
    new_rows = []
    for prediction in registry:
        try:
            result = evaluate(prediction, inputs, now, parts=results)
        except Exception as exc:  # one broken evaluator must not stop the others
            log.exception("evaluating %s failed", prediction.id)
            result = Evaluation(Status.NO_DATA, f"evaluation failed: {exc}")
        results[prediction.id] = result
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
    queries.add_snapshots(engine, new_rows)
    return results
