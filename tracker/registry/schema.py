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
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

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

# Dates far from now overflow the arithmetic done with them (a lookback before made_on,
# a digest's week after a deadline): the calendar a prediction can use is bounded.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"date {value} out of range ({FIRST_DAY} to {LAST_DAY})")
    return value


Day = Annotated[date, AfterValidator(_in_range)]


class PredictionBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    id: str = Field(pattern=_SLUG, max_length=120)
    who: str = Field(min_length=1)
    made_on: Day
    claim: str = Field(min_length=1)
    kind: str
    deadline: Day | None = None
    start: Day | None = None
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
        """Every series this prediction reads (a fallback included)."""
        ids = [self.series] if getattr(self, "series", None) else []
        if getattr(self, "fallback", None):
            ids.append(self.fallback)
        return ids

    def part_ids(self) -> list[str]:
        """Other predictions this one is made of (composites only)."""
        return []


class _OneSeries(PredictionBase):
    """A prediction on one series, with an optional stand-in: ``fallback`` is read
    instead when ``series`` has no data or is stale, and the explanation says so."""

    series: SeriesId
    fallback: SeriesId | None = None

    @model_validator(mode="after")
    def _fallback_differs(self):
        if self.fallback == self.series:
            raise ValueError("fallback: the same series as 'series'")
        return self


class Threshold(_OneSeries):
    """The series touches (or, touch=false, closes the deadline) beyond target. A rate set
    in ``step``s at scheduled ``meetings`` (the Fed's target range) is priced meeting by
    meeting instead of as a price that wanders."""

    kind: Literal["threshold"]
    target: float
    direction: Literal["above", "below"]
    touch: bool = True
    meetings: list[Day] | None = Field(default=None, min_length=1)
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _meetings_with_step(self):
        if (self.meetings is None) != (self.step is None):
            raise ValueError("give 'meetings' and 'step' together")
        if self.meetings is not None and not self.touch:
            raise ValueError("meetings: only for a touch (touch = true)")
        return self


class Race(_OneSeries):
    """``target`` is touched before ``against``."""

    kind: Literal["race"]
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


SeriesOrBasket = SeriesId | list[SeriesId]


def _members(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class Outperform(PredictionBase):
    """The return of ``series`` (or of an equal-weight ``basket``) from ``start`` to
    ``deadline`` beats (direction=over) or trails (under) the ``benchmark``'s."""

    kind: Literal["outperform"]
    series: SeriesId | None = None
    basket: list[SeriesId] | None = None
    benchmark: SeriesOrBasket
    direction: Literal["over", "under"] = "over"

    @model_validator(mode="after")
    def _one_side(self):
        if (self.series is None) == (self.basket is None):
            raise ValueError("give either 'series' or 'basket', not both or neither")
        if self.basket is not None and len(self.basket) < 2:
            raise ValueError("basket: needs at least two series (else use 'series')")
        if set(self.members()) & set(self.benchmark_members()):
            raise ValueError("benchmark: shares a series with the side it is compared to")
        return self

    def members(self) -> list[str]:
        return [self.series] if self.series else list(self.basket)

    def benchmark_members(self) -> list[str]:
        return _members(self.benchmark)

    def series_ids(self) -> list[str]:
        return self.members() + self.benchmark_members()


class Rank(PredictionBase):
    """``series`` (or an equal-weight ``basket``) has the best (or worst) return from
    ``start`` to ``deadline`` among itself and the ``universe``: a list of rivals, or the
    name of a universe declared once in a registry file (``[universe.NAME]``). A basket
    is ranked against the universe's other members, its own members left out."""

    kind: Literal["rank"]
    series: SeriesId | None = None
    basket: list[SeriesId] | None = None
    fallback: SeriesId | None = None
    universe: list[SeriesId] | str
    universe_name: str | None = None  # set from a named universe, for people to read
    position: Literal["best", "worst"] = "best"

    @model_validator(mode="before")
    @classmethod
    def _named_universe(cls, data: Any, info: ValidationInfo):
        """A universe's name becomes its members, from the registry's declarations."""
        if not isinstance(data, dict) or not isinstance(data.get("universe"), str):
            return data
        declared = (info.context or {}).get("universes", {})
        name = data["universe"]
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            raise ValueError(f"universe: unknown universe {name!r} (known: {known})")
        return data | {"universe": list(declared[name].values()), "universe_name": name}

    @model_validator(mode="after")
    def _distinct(self):
        if (self.series is None) == (self.basket is None):
            raise ValueError("give either 'series' or 'basket', not both or neither")
        if self.basket is not None and len(self.basket) < 2:
            raise ValueError("basket: needs at least two series (else use 'series')")
        if self.fallback is not None and (self.basket is not None or self.fallback == self.series):
            raise ValueError("fallback: only for a single 'series', and not the series itself")
        if len(set(self.universe)) != len(self.universe):
            raise ValueError("universe: a series is listed twice")
        if not self.rivals():
            raise ValueError("universe: no rivals left to rank against")
        if self.series in self.universe and self.universe_name is None:
            raise ValueError("universe: lists the ranked series itself; list only its rivals")
        return self

    def members(self) -> list[str]:
        return [self.series] if self.series else list(self.basket)

    def rivals(self) -> list[str]:
        """The universe less the ranked series or the basket's members."""
        return [sid for sid in self.universe if sid not in self.members()]

    def series_ids(self) -> list[str]:
        own = [*self.members(), *([self.fallback] if self.fallback else [])]
        return [*own, *self.rivals()]


class _Released(_OneSeries):
    """A number released for the period ``on`` (the series' observation date, e.g.
    2026-01-01 for the year 2026 in an annual series).

    For a year's real GDP growth, ``levels`` (quarterly real GDP, e.g. fred:GDPC1) and
    ``nowcast`` (a nowcast of the quarter's annualised growth, e.g. fred:GDPNOW), given
    together, let the gdp-nowcast model give a probability before the release."""

    on: Day
    nowcast: SeriesId | None = None
    levels: SeriesId | None = None

    @model_validator(mode="after")
    def _nowcast_inputs(self):
        if (self.nowcast is None) != (self.levels is None):
            raise ValueError("give 'nowcast' and 'levels' together (the model needs both)")
        if self.nowcast and (self.on.month, self.on.day) != (1, 1):
            raise ValueError("nowcast: the model is for a year's growth, so 'on' must be 1 January")
        if self.nowcast and len({self.series, self.nowcast, self.levels}) < 3:
            raise ValueError("nowcast, levels: must differ from each other and from 'series'")
        return self

    def series_ids(self) -> list[str]:
        return super().series_ids() + ([self.levels, self.nowcast] if self.nowcast else [])


class Level(_Released):
    """The value released for ``on`` is beyond ``target``. Probability from a linked
    ``market`` when given, else from the nowcast inputs when given, else none."""

    kind: Literal["level"]
    target: float
    direction: Literal["above", "below"]
    market: SeriesId | None = None
    market_side: Literal["yes", "no"] = "yes"

    @model_validator(mode="after")
    def _market_source(self):
        if self.market and self.market.split(":", 1)[0] not in MARKET_SOURCES:
            raise ValueError(f"market: {self.market!r} is not a prediction market")
        return self

    def series_ids(self) -> list[str]:
        return super().series_ids() + ([self.market] if self.market else [])


class Estimate(_Released):
    """The value released for ``on`` lies within ``range`` (low, high), or within
    ``tolerance`` of ``value``; the error is reported. A probability only from the nowcast
    inputs, when given."""

    kind: Literal["estimate"]
    value: float | None = None
    tolerance: float | None = Field(default=None, ge=0)
    range: list[float] | None = Field(default=None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _value_or_range(self):
        if (self.value is None) == (self.range is None):
            raise ValueError("give either 'value' (with 'tolerance') or 'range', not both")
        if self.value is not None and self.tolerance is None:
            raise ValueError("tolerance: missing (how far from 'value' still counts)")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range: low is above high")
        return self

    def bounds(self) -> tuple[float, float]:
        if self.range is not None:
            return (self.range[0], self.range[1])
        return (self.value - self.tolerance, self.value + self.tolerance)


class Filing(PredictionBase):
    """A company files a registration statement for a public offering (an S-1 or F-1, an
    amendment, or a confidential draft once EDGAR shows it) dated between ``start`` and
    ``deadline``. ``series`` is the company's ``edgar:<CIK>`` series. No probability of
    its own while open: no market or model prices a filing."""

    kind: Literal["filing"]
    series: SeriesId

    @model_validator(mode="after")
    def _edgar_series(self):
        source, _, symbol = self.series.partition(":")
        cik = symbol.isascii() and symbol.isdigit() and len(symbol) <= 10  # as sources.edgar
        if source != "edgar" or not cik:
            raise ValueError(
                f"series {self.series!r} is not an EDGAR filer: use 'edgar:<CIK>', the SEC's "
                "number in digits, like 'edgar:1181412'"
            )
        return self


class Manual(PredictionBase):
    """No data can judge it: resolved by ``tracker resolve``. An optional ``proxy``
    series is shown for context; ``reason`` says why it is manual."""

    kind: Literal["manual"]
    proxy: SeriesId | None = None
    reason: str = ""

    def series_ids(self) -> list[str]:
        return [self.proxy] if self.proxy else []


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
    "outperform": Outperform,
    "rank": Rank,
    "level": Level,
    "estimate": Estimate,
    "filing": Filing,
    "manual": Manual,
    "at_least": AtLeast,
    "all_of": AllOf,
    "any_of": AnyOf,
}
Prediction = (
    Threshold | Race | Market | Outperform | Rank | Level | Estimate | Filing | Manual | AtLeast
    | AllOf | AnyOf
)
