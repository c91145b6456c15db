"""Who is winning: per person counts, an expected hit rate, and how bold and how right the
calls were against the price the market (or our model) gave them on the day they were
made. Pure: evaluations and prices in, rows out.

People are ranked by a rate, never by a sum, so making more claims earns nothing by
itself. The rate is the expected hit rate: resolved hits plus the chances of the calls
still open, over the calls that are resolved or carry a chance. A call with no chance
(no data, or a manual claim awaiting its verdict) is not counted as an expected miss: it
is left out of the rate and counted apart as "unpriced". Equal rates rank the larger n
first (the same rate on more evidence), then by name.

Verdicts given by hand (``tracker resolve``, stored with model "manual") are counted
apart from verdicts the data gave. Only scored predictions count (parts that exist to
build a composite do not). A price q is clipped to 0.01-0.99, so one near-certain call
cannot dominate an average.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from tracker.verdicts import HIT_OR_MISS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tracker.registry.schema import PredictionBase

CLIP = (0.01, 0.99)
BY_HAND = "manual"  # the model of an evaluation a manual verdict produced
RATE_DIGITS = 6  # rates equal to this many digits are a tie (not float noise)


class Latest(NamedTuple):
    """A prediction's newest evaluation, as the scoreboard reads it."""

    status: str
    probability: float | None = None
    model: str | None = None


@dataclass
class PersonScore:
    who: str
    right: int = 0
    wrong: int = 0
    void: int = 0
    open: int = 0  # every open call, priced or not
    unpriced: int = 0  # open calls without a chance: not in the rate
    right_by_hand: int = 0  # of ``right``, given by hand
    wrong_by_hand: int = 0  # of ``wrong``, given by hand
    expected_hits: float = 0.0
    edges: list[float] = field(default_factory=list)  # outcome - q, resolved priced calls
    boldness: list[float] = field(default_factory=list)  # 1 - q, every priced call
    yields: list[float] = field(default_factory=list)  # betting 1 at q, resolved priced calls
    briers: list[float] = field(default_factory=list)  # (1 - outcome)^2: the call as certain
    price_briers: list[float] = field(default_factory=list)  # (q - outcome)^2, the same calls

    @property
    def claims(self) -> int:
        return self.right + self.wrong + self.void + self.open

    @property
    def resolved(self) -> int:
        return self.right + self.wrong

    @property
    def right_by_data(self) -> int:
        return self.right - self.right_by_hand

    @property
    def wrong_by_data(self) -> int:
        return self.wrong - self.wrong_by_hand

    @property
    def hit_rate(self) -> float | None:
        return self.right / self.resolved if self.resolved else None

    @property
    def rate_n(self) -> int:
        """The calls behind the expected hit rate: resolved, or open with a chance."""
        return self.resolved + self.open - self.unpriced

    @property
    def expected_hit_rate(self) -> float | None:
        return self.expected_hits / self.rate_n if self.rate_n else None

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    @property
    def edge(self) -> float | None:
        return self._mean(self.edges)

    @property
    def mean_boldness(self) -> float | None:
        return self._mean(self.boldness)

    @property
    def mean_yield(self) -> float | None:
        return self._mean(self.yields)

    @property
    def brier(self) -> float | None:
        return self._mean(self.briers)

    @property
    def price_brier(self) -> float | None:
        return self._mean(self.price_briers)

    def rank_key(self) -> tuple:
        """Best first: the higher rate, then the larger n, then the name. No rate last."""
        rate = self.expected_hit_rate
        return (rate is None, -round(rate or 0.0, RATE_DIGITS), -self.rate_n)

    def as_dict(self) -> dict:
        return {
            "who": self.who, "claims": self.claims, "right": self.right, "wrong": self.wrong,
            "void": self.void, "open": self.open, "expected_hits": round(self.expected_hits, 4),
            "hit_rate": self.hit_rate, "resolved": self.resolved,
            "edge": self.edge, "edge_n": len(self.edges),
            "boldness": self.mean_boldness, "boldness_n": len(self.boldness),
            "yield": self.mean_yield, "yield_n": len(self.yields),
            "expected_hit_rate": self.expected_hit_rate, "expected_hit_rate_n": self.rate_n,
            "unpriced": self.unpriced,
            "right_by_data": self.right_by_data, "wrong_by_data": self.wrong_by_data,
            "right_by_hand": self.right_by_hand, "wrong_by_hand": self.wrong_by_hand,
            "brier": self.brier, "price_brier": self.price_brier, "brier_n": len(self.briers),
        }


def level(a: PersonScore, b: PersonScore) -> bool:
    """Neither ranks above the other but for the name."""
    return a.rank_key() == b.rank_key()


def _count_call(person: PersonScore, latest: Latest) -> None:
    """Add one scored call's verdict or chance to its person."""
    if latest.status == "void":
        person.void += 1
    elif latest.status in HIT_OR_MISS:
        hit = latest.status == "right"
        by_hand = latest.model == BY_HAND
        person.right += hit
        person.wrong += not hit
        person.right_by_hand += hit and by_hand
        person.wrong_by_hand += (not hit) and by_hand
        person.expected_hits += hit
    else:
        person.open += 1
        if latest.probability is None:
            person.unpriced += 1  # not an expected miss: left out of the rate
        else:
            person.expected_hits += latest.probability


def _count_price(person: PersonScore, status: str, q: float) -> None:
    """Boldness for every priced call; edge, yield and Brier once it is resolved."""
    q = min(max(q, CLIP[0]), CLIP[1])
    person.boldness.append(1.0 - q)
    if status not in HIT_OR_MISS:
        return
    outcome = 1.0 if status == "right" else 0.0
    person.edges.append(outcome - q)
    person.yields.append(1.0 / q - 1.0 if outcome else -1.0)
    person.briers.append((1.0 - outcome) ** 2)
    person.price_briers.append((q - outcome) ** 2)


def score(predictions: Iterable[PredictionBase], latest: dict[str, tuple],
          priced: dict[str, float]) -> list[PersonScore]:
    """``latest``: prediction id -> (status, probability[, model]); ``priced``: id -> q on
    made_on. Rows best first (``PersonScore.rank_key``)."""
    people: dict[str, PersonScore] = defaultdict(lambda: PersonScore(""))
    for prediction in predictions:
        if not prediction.scored:
            continue
        person = people[prediction.who]
        person.who = prediction.who
        newest = Latest(*latest.get(prediction.id, ("no_data",)))
        _count_call(person, newest)
        q = priced.get(prediction.id)
        if q is not None and newest.status != "void":
            _count_price(person, newest.status, q)
    return sorted(people.values(), key=lambda p: (*p.rank_key(), p.who))
