"""Evaluators: series values in, status and probability out. No I/O, no sessions.

``evaluate(prediction, inputs, now, parts)`` dispatches on the prediction's kind.
``inputs`` maps each series id the prediction needs to a SeriesInput (its points,
freshness and, for markets, resolution state); ``parts`` holds the evaluations of the
predictions a composite is made of (the registry orders composites after their parts).
A prediction with a ``fallback`` series reads it when its own series is missing or stale.
Every evaluator first decides what its stored points settle, then runs the shared guards
(guards.py: missing, empty or stale inputs) before it estimates an open claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate import (
    composite,
    estimate,
    filing,
    level,
    manual,
    market,
    outperform,
    race,
    rank,
    threshold,
)
from tracker.evaluate.fallback import annotate, stand_in
from tracker.evaluate.result import Evaluation, SeriesInput, Status

if TYPE_CHECKING:
    from tracker.registry.schema import Prediction

SERIES_EVALUATORS = {
    "threshold": threshold.evaluate,
    "race": race.evaluate,
    "market": market.evaluate,
    "level": level.evaluate,
    "estimate": estimate.evaluate,
    "filing": filing.evaluate,
    "outperform": outperform.evaluate,
    "rank": rank.evaluate,
    "manual": manual.evaluate,
}
COMPOSITE_KINDS = ("at_least", "all_of", "any_of")


def evaluate(
    prediction: Prediction,
    inputs: dict[str, SeriesInput],
    now: datetime,
    parts: dict[str, Evaluation] | None = None,
) -> Evaluation:
    if prediction.kind in COMPOSITE_KINDS:
        return composite.evaluate(prediction, parts or {}, now)
    inputs, fallback_reason = stand_in(prediction, inputs)
    result = SERIES_EVALUATORS[prediction.kind](prediction, inputs, now)
    if fallback_reason:
        result = annotate(result, fallback_reason, prediction.fallback)
    return result


__all__ = ["Evaluation", "SeriesInput", "Status", "evaluate"]
