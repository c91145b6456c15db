"""``at_least`` / ``all_of`` / ``any_of``: how many of other predictions come true.

A part counts when it is right; wrong and void parts never will. The composite resolves
as soon as the count makes the outcome certain (enough parts right, or too few left
open), and its explanation says so. Probability while open: the parts' probabilities as
independent events, combined exactly (Poisson-binomial distribution of the count). An
``any_of`` with some open parts unpriced takes its priced parts' chance as a lower bound.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from tracker.evaluate.result import Evaluation, Status, pct

if TYPE_CHECKING:
    from tracker.registry.schema import AllOf, AnyOf, AtLeast

    Composite = AtLeast | AllOf | AnyOf


def needed(prediction: Composite) -> int:
    if prediction.kind == "all_of":
        return len(prediction.of)
    if prediction.kind == "any_of":
        return 1
    return prediction.n


def poisson_binomial(probabilities: list[float]) -> list[float]:
    """P(exactly k successes) for k = 0..len, for independent events (exact recursion)."""
    dist = [1.0]
    for p in probabilities:
        nxt = [0.0] * (len(dist) + 1)
        for k, mass in enumerate(dist):
            nxt[k] += mass * (1.0 - p)
            nxt[k + 1] += mass * p
        dist = nxt
    return dist


def evaluate(prediction: Composite, parts: dict[str, Evaluation], now: datetime) -> Evaluation:
    n = needed(prediction)
    total = len(prediction.of)
    right = [pid for pid in prediction.of if parts[pid].status is Status.RIGHT]
    done = {Status.RIGHT, Status.WRONG, Status.VOID}
    still_open = [pid for pid in prediction.of if parts[pid].status not in done]
    counts = {"right": len(right), "open": len(still_open), "needed": n, "of": total}

    if len(right) >= n:
        return Evaluation(
            Status.RIGHT,
            f"{len(right)} of {total} already right ({', '.join(right)}); needed {n}"
            + (f", resolved early with {len(still_open)} still open" if still_open else ""),
            probability=1.0,
            value=float(len(right)),
            inputs=counts,
        )
    if len(right) + len(still_open) < n:
        return Evaluation(
            Status.WRONG,
            f"only {len(right)} right and {len(still_open)} open of {total}: {n} can no longer "
            "be reached" + (", resolved early" if still_open else ""),
            probability=0.0,
            value=float(len(right)),
            inputs=counts,
        )

    probabilities = [parts[pid].probability for pid in still_open]
    missing = [pid for pid, p in zip(still_open, probabilities) if p is None]
    if missing and prediction.kind == "any_of" and len(missing) < len(still_open):
        return _any_of_at_least(still_open, parts, missing, counts)
    if missing:
        return Evaluation(
            Status.NO_DATA,
            f"{len(right)} of {total} right so far; no probability yet for {', '.join(missing)}",
            value=float(len(right)),
            inputs=counts,
        )
    dist = poisson_binomial(probabilities)
    p = sum(dist[max(0, n - len(right)):])
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"{len(right)} of {total} right, {len(still_open)} open, {n} needed: {pct(p)} chance "
        "(parts taken as independent)",
        probability=p,
        value=float(len(right)),
        model="poisson-binomial",
        inputs={**counts, "part_probabilities": dict(zip(still_open, probabilities))},
    )


def _any_of_at_least(still_open: list[str], parts: dict[str, Evaluation], missing: list[str],
                     counts: dict[str, int]) -> Evaluation:
    """An ``any_of`` whose open parts are priced only in part (an IPO filing that no market
    prices, beside a listing market that does): the chance that a priced part comes true
    is a lower bound of the whole, and stands in for it, said as such."""
    priced = {pid: parts[pid].probability for pid in still_open if pid not in missing}
    p = 1.0 - math.prod(1.0 - q for q in priced.values())
    return Evaluation(
        Status.ON_TRACK if p >= 0.5 else Status.OFF_TRACK,
        f"at least {pct(p)} chance: {', '.join(priced)} priced, no probability yet for "
        f"{', '.join(missing)}",
        probability=p,
        value=0.0,
        model="any-of-lower-bound",
        inputs={**counts, "part_probabilities": priced, "unpriced": missing},
    )
