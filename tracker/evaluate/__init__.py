"""Evaluators: series values in, status and probability out. No I/O, no sessions.

``evaluate(prediction, inputs, now)`` dispatches on the prediction's kind. ``inputs`` maps
each series id the prediction needs to a SeriesInput (its points and whether it is stale).
"""

from __future__ import annotations

from datetime import datetime

from tracker.evaluate.result import Evaluation, SeriesInput, Status
from tracker.evaluate import race, threshold

EVALUATORS = {"threshold": threshold.evaluate, "race": race.evaluate}


def evaluate(prediction, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    return EVALUATORS[prediction.kind](prediction, inputs, now)


__all__ = ["Evaluation", "SeriesInput", "Status", "evaluate", "EVALUATORS"]
