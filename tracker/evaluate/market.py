"""``market``: a prediction market resolves to ``side``.

Right or wrong only when the market is final (Polymarket: closed and resolved by UMA;
Kalshi: settled yes or no); a proposed or disputed outcome is not final, whatever the
prices say. A void market (Polymarket 50/50, Kalshi scalar) makes the prediction void.
Probability while open: the market's price of ``side`` (the "yes" price, or one minus it).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate import guards
from tracker.evaluate.result import Evaluation, SeriesInput, Status, pct

if TYPE_CHECKING:
    from tracker.registry.schema import Market

PENDING_STATES = {"proposed": "outcome proposed, not final", "disputed": "outcome disputed",
                  "closed": "closed, awaiting resolution"}


def evaluate(prediction: Market, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    series = inputs[prediction.series]
    yes = prediction.side == "yes"
    last = guards.latest(series)
    headline = guards.headline(last)

    if series.state == "void":
        return Evaluation(Status.VOID, f"{series.name} was voided", **headline)
    if series.state == "resolved" and series.resolved_value is not None:
        won = series.resolved_value
        if won not in (0.0, 1.0):
            return Evaluation(
                Status.VOID, f"{series.name} settled at {won:g}, neither yes nor no", **headline
            )
        right = (won == 1.0) == yes
        outcome = "yes" if won == 1.0 else "no"
        return Evaluation(
            Status.RIGHT if right else Status.WRONG,
            f"{series.name} resolved {outcome}",
            probability=1.0 if right else 0.0,
            **headline,
        )
    if why := guards.why_empty(series, "odds"):
        return guards.no_data(why)
    if series.stale:
        return guards.no_data(
            f"{series.name} odds are stale: last {series.last_seen:%Y-%m-%d %H:%M} UTC", last)
    p = last.value if yes else 1.0 - last.value
    note = PENDING_STATES.get(series.state or "")
    explanation = f"{series.name}: market gives {prediction.side} {pct(p)}"
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"{explanation} ({note})" if note else explanation,
        probability=p,
        model=f"market:{prediction.series.split(':', 1)[0]}",
        inputs={"yes_price": last.value, "as_of": last.ts.isoformat(), "state": series.state},
        **headline,
    )
