"""Which statuses are verdicts. A prediction's status travels as a string through every
layer (tracker.evaluate's ``Status`` holds the same values). Two questions are asked of
it, and "void" answers them differently: it settles a prediction, but is neither a hit
nor a miss, so no score counts it."""

from __future__ import annotations

SETTLED = frozenset({"right", "wrong", "void"})  # final: no data will change it
HIT_OR_MISS = frozenset({"right", "wrong"})  # counted in a hit rate and a Brier score
