"""Who is winning: per person counts, expected hits, and how bold and how right the
calls were against the price the market (or our model) gave them on the day they were
made. Pure: evaluations and prices in, rows out.

Only scored predictions count (parts that exist to build a composite do not). A price q
is clipped to 0.01-0.99, so one near-certain call cannot dominate an average.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

RESOLVED = ("right", "wrong")
CLIP = (0.01, 0.99)


@dataclass
class PersonScore:
    who: str
    right: int = 0
    wrong: int = 0
    void: int = 0
    open: int = 0
    expected_hits: float = 0.0
    edges: list[float] = field(default_factory=list)  # outcome - q, resolved priced calls
    boldness: list[float] = field(default_factory=list)  # 1 - q, every priced call
    yields: list[float] = field(default_factory=list)  # betting 1 at q, resolved priced calls

    @property
    def claims(self) -> int:
        return self.right + self.wrong + self.void + self.open

    @property
    def resolved(self) -> int:
        return self.right + self.wrong

    @property
    def hit_rate(self) -> float | None:
        return self.right / self.resolved if self.resolved else None

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

    def as_dict(self) -> dict:
        return {
            "who": self.who, "claims": self.claims, "right": self.right, "wrong": self.wrong,
            "void": self.void, "open": self.open, "expected_hits": round(self.expected_hits, 4),
            "hit_rate": self.hit_rate, "resolved": self.resolved,
            "edge": self.edge, "edge_n": len(self.edges),
            "boldness": self.mean_boldness, "boldness_n": len(self.boldness),
            "yield": self.mean_yield, "yield_n": len(self.yields),
        }


def score(predictions, latest: dict[str, tuple[str, float | None]], priced: dict[str, float]):
    """``latest``: prediction id -> (status, probability); ``priced``: id -> q on made_on.
    Rows sorted by expected hits, then right calls."""
    people: dict[str, PersonScore] = defaultdict(lambda: PersonScore(""))
    for prediction in predictions:
        if not prediction.scored:
            continue
        person = people[prediction.who]
        person.who = prediction.who
        status, probability = latest.get(prediction.id, ("no_data", None))
        if status == "void":
            person.void += 1
            continue
        if status in RESOLVED:
            hit = status == "right"
            person.right += hit
            person.wrong += not hit
            person.expected_hits += hit
        else:
            person.open += 1
            person.expected_hits += probability or 0.0
        q = priced.get(prediction.id)
        if q is None:
            continue
        q = min(max(q, CLIP[0]), CLIP[1])
        person.boldness.append(1.0 - q)
        if status in RESOLVED:
            outcome = 1.0 if status == "right" else 0.0
            person.edges.append(outcome - q)
            person.yields.append(1.0 / q - 1.0 if outcome else -1.0)
    return sorted(people.values(), key=lambda p: (-p.expected_hits, -p.right, p.who))
