"""The prediction schema (DESIGN section 5). One prediction is one TOML table.

Common fields: id, who, made_on, claim, kind, deadline (default: 31 December of
made_on's year), start (baseline date, default made_on), category, notes, scored (default
true; false for a building block that exists only as a part of a composite, such as one
company's IPO market under "at least two of five go public": tracked and shown, but not a
claim of its own on the scoreboard). Each kind adds its own fields; an unknown field is an
error, so a typo never silently changes a verdict.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tracker.sources import SOURCES

_SLUG = r"^[a-z0-9][a-z0-9-]*$"
_SERIES = re.compile(r"^([a-z]+):(\S+)$")


def _series_id(value: str) -> str:
    match = _SERIES.match(value)
    if not match:
        raise ValueError(f"malformed series id {value!r}: expected '<source>:<symbol>'")
    if match.group(1) not in SOURCES:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"unknown source {match.group(1)!r} in {value!r} (known: {known})")
    return value


SeriesId = Annotated[str, AfterValidator(_series_id)]


class PredictionBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(pattern=_SLUG, max_length=120)
    who: str = Field(min_length=1)
    made_on: date
    claim: str = Field(min_length=1)
    kind: str
    deadline: date | None = None
    start: date | None = None
    category: str = ""
    notes: str = ""
    scored: bool = True

    @model_validator(mode="after")
    def _dates(self):
        if self.deadline is None:
            object.__setattr__(self, "deadline", date(self.made_on.year, 12, 31))
        if self.start is None:
            object.__setattr__(self, "start", self.made_on)
        if self.deadline < self.start:
            raise ValueError(f"deadline {self.deadline} is before start {self.start}")
        return self

    def series_ids(self) -> list[str]:
        """Every series this prediction reads."""
        return [self.series] if getattr(self, "series", None) else []

    def part_ids(self) -> list[str]:
        """Other predictions this one is made of (composites only)."""
        return []


class Threshold(PredictionBase):
    """The series touches (or, touch=false, closes the deadline) beyond target."""

    kind: Literal["threshold"]
    series: SeriesId
    target: float
    direction: Literal["above", "below"]
    touch: bool = True


class Race(PredictionBase):
    """``target`` is touched before ``against``."""

    kind: Literal["race"]
    series: SeriesId
    target: float = Field(gt=0)
    against: float = Field(gt=0)

    @model_validator(mode="after")
    def _distinct(self):
        if self.target == self.against:
            raise ValueError("target and against must differ")
        return self


class Market(PredictionBase):
    """A Polymarket or Kalshi market resolves to ``side``."""

    kind: Literal["market"]
    series: SeriesId
    side: Literal["yes", "no"]

    @model_validator(mode="after")
    def _market_source(self):
        if self.series.split(":", 1)[0] not in MARKET_SOURCES:
            raise ValueError(f"series {self.series!r} is not a prediction market (polymarket: or kalshi:)")
        return self


class _Composite(PredictionBase):
    of: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_parts(self):
        if len(set(self.of)) != len(self.of):
            raise ValueError("of: a prediction is listed twice")
        if self.id in self.of:
            raise ValueError("of: a composite cannot contain itself")
        return self

    def part_ids(self) -> list[str]:
        return list(self.of)


class AtLeast(_Composite):
    """At least ``n`` of the predictions in ``of`` come true."""

    kind: Literal["at_least"]
    n: int = Field(ge=1)

    @model_validator(mode="after")
    def _reachable(self):
        if self.n > len(self.of):
            raise ValueError(f"n: {self.n} is more than the {len(self.of)} parts in 'of'")
        return self


class AllOf(_Composite):
    kind: Literal["all_of"]


class AnyOf(_Composite):
    kind: Literal["any_of"]


MARKET_SOURCES = ("polymarket", "kalshi")
COMPOSITE_KINDS = ("at_least", "all_of", "any_of")
KINDS: dict[str, type[PredictionBase]] = {
    "threshold": Threshold,
    "race": Race,
    "market": Market,
    "at_least": AtLeast,
    "all_of": AllOf,
    "any_of": AnyOf,
}
Prediction = Threshold | Race | Market | AtLeast | AllOf | AnyOf
