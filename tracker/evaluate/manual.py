"""``manual`` predictions, and manual verdicts on any prediction.

A ``manual`` prediction has no data that can judge it: it stays ``open`` until someone
runs ``tracker resolve``. Its optional ``proxy`` series is shown for context only and
never decides anything. A manual verdict (right, wrong or void) overrides whatever the
automatic evaluation says, for any kind: people sometimes know better than the data (a
market that settled on a technicality, a claim the data cannot see).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate.result import Evaluation, SeriesInput, Status

if TYPE_CHECKING:
    from tracker.registry.schema import Manual

OUTCOMES = {"right": Status.RIGHT, "wrong": Status.WRONG, "void": Status.VOID}
AWAITS = "awaits a manual resolution (tracker resolve)"


def evaluate(prediction: Manual, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    reason = prediction.reason or "no data can judge this claim"
    proxy = inputs.get(prediction.proxy) if prediction.proxy else None
    if proxy is None or not proxy.points:
        return Evaluation(Status.OPEN, f"{AWAITS}: {reason}")
    last = proxy.points[-1]
    return Evaluation(
        Status.OPEN,
        f"{AWAITS}: {reason}; for context, {proxy.name} is {proxy.show(last.value)} "
        f"({last.ts:%Y-%m-%d})",
        value=last.value,
        value_at=last.ts,
    )


def override(automatic: Evaluation, outcome: str, note: str, resolved_at: datetime) -> Evaluation:
    """The manual verdict, keeping the automatic headline value for context."""
    status = OUTCOMES[outcome]
    probability = {Status.RIGHT: 1.0, Status.WRONG: 0.0}.get(status)
    said = f": {note}" if note else ""
    return Evaluation(
        status,
        f"resolved {outcome} by hand on {resolved_at:%Y-%m-%d}{said}",
        probability=probability,
        value=automatic.value,
        value_at=automatic.value_at,
        model="manual",
        inputs={"automatic_status": automatic.status.value, "note": note},
    )
