"""What every source is (the ``Source`` protocol), what it produces, and the errors it
may raise; and the checks every source shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tracker.points import Point
from tracker.redact import redact

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.sources.http import HttpClient


@dataclass(slots=True)
class SeriesData:
    """What one fetch of one symbol gave: its points and what the API says it is."""

    symbol: str
    points: list[Point]
    name: str | None = None
    unit: str | None = None
    state: str | None = None  # markets: open, proposed, disputed, closed, resolved, void
    resolved_value: float | None = None  # markets: 1.0 yes won, 0.0 no won, else scalar
    meta: dict | None = None  # details a later fetch needs (e.g. outcome token ids)


@dataclass(slots=True)
class SourceReport:
    """The outcome of one source in one cycle: good series, and per-symbol errors."""

    source: str
    series: list[SeriesData] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    # Symbols the source says do not exist (each has its message in ``errors`` too): a
    # mistyped or delisted link, not a failure of the source.
    missing: set[str] = field(default_factory=set)
    retry_after: float | None = None  # seconds the server asked us to wait, if any

    @property
    def points(self) -> int:
        return sum(len(s.points) for s in self.series)


@runtime_checkable
class Source(Protocol):
    """A data source: an API that turns symbols into points. Each source module defines
    one, ``SOURCE``, which ``tracker.sources.load_source(name)`` finds by name. Its
    schedule group is in the registry of sources (tracker/sources/__init__.py), which the
    quick path reads without loading any source."""

    name: str  # the prefix of its series ids: ``yahoo`` in ``yahoo:BATS.L``

    async def fetch(
        self, http: HttpClient, settings: Settings, symbols: dict[str, date], now: datetime
    ) -> SourceReport:
        """Each symbol's points from the date it maps to. A symbol that fails is an entry
        in the report's errors (and in ``missing`` when the API says it does not exist),
        and never stops the others."""
        ...


@runtime_checkable
class HistorySource(Source, Protocol):
    """A source that can also read the past of a series, for `tracker backfill`. A source
    that cannot leaves out ``history_window`` and ``history``; backfill passes its series
    by."""

    # The longest span one request may ask for; None when one request reads it all.
    history_window: timedelta | None

    def history(
        self, http: HttpClient, settings: Settings, symbol: str, meta: dict | None,
        windows: Sequence[tuple[datetime, datetime]],
    ) -> AsyncIterator[SeriesData]:
        """One SeriesData per window (start, end), in order, with only the points
        inside it (see ``within``); a failure is a SourceError raised by the iteration,
        after the windows already yielded. ``meta`` is what the poll stored for the
        series, if anything: a source that needs a lookup before its first window (a
        token, a series ticker) looks there first."""
        ...


def plain(text: object) -> str:
    """Text from an API (or a file) as one printable line: control characters (newlines,
    terminal escapes) become spaces, so a message can never break or restyle a line."""
    return "".join(c if c.isprintable() else " " for c in str(text))


def unexpected(exc: BaseException) -> str:
    """An exception nobody foresaw, as one line for health and the log: its class and
    the first line of what it says."""
    lines = str(exc).strip().splitlines()
    return redact(plain(f"unexpected {type(exc).__name__}: {lines[0] if lines else ''}")[:300])


class SourceError(Exception):
    """A fetch or parse failed for one symbol; the message is for the user."""

    def __init__(self, message: str, retry_after: float | None = None):
        # Messages name the server, and a configured URL may carry a password.
        super().__init__(redact(message))
        self.retry_after = retry_after


class PayloadError(SourceError):
    """The API answered, but not with what we expected (schema drift, HTML, bad CSV)."""


def probability(value: Any, field: str) -> float:
    """The price of a $1 contract: a number (or a string holding one) within 0..1."""
    try:
        price = float(str(value))
    except ValueError:
        raise PayloadError(f"{field} holds a non-number {value!r}") from None
    if not 0.0 <= price <= 1.0:  # NaN too
        raise PayloadError(f"{field} holds {value!r}, outside 0..1")
    return price


def midpoint(bid: float | None, ask: float | None) -> float | None:
    """The middle of a bid and an ask that are both real quotes (an empty book quotes
    0 and 1); None otherwise."""
    if bid is not None and ask is not None and 0.0 < bid <= ask < 1.0:
        return (bid + ask) / 2.0
    return None


class NotFound(SourceError):
    """The API answered that this symbol, slug, ticker or series does not exist."""


def within(points: list[Point], start: datetime, end: datetime) -> list[Point]:
    """The points of a history window [start, end], whatever span the server sent back
    (Yahoo's ``period2`` is fuzzy). A daily point is stamped 00:00 UTC of its day, so the
    window's first day counts whole: a window that starts later that day, as a resumed
    backfill does, still keeps that day's point."""
    first = datetime.combine(start.astimezone(UTC).date(), time(), UTC)
    return [p for p in points if first <= p.ts <= end]


NO_POINTS = "answered with no data points"


def refuse_empty_series(report: SourceReport) -> SourceReport:
    """``report`` with each series that holds no point at all (every value null, an empty
    result) moved to its errors. A poll asks from the newest stored point, which a working
    answer holds again: an empty answer is a failure, not "nothing new"."""
    for series in [s for s in report.series if not s.points]:
        report.series.remove(series)
        report.errors[series.symbol] = NO_POINTS
    return report


async def fetch_each(source: str, symbols: dict, fetch_one) -> SourceReport:
    """Fetch every symbol concurrently with ``fetch_one(symbol, since)``.

    One symbol's failure is recorded against that symbol and never stops the others.
    """
    import asyncio

    report = SourceReport(source)
    names = list(symbols)
    outcomes = await asyncio.gather(
        *(fetch_one(name, symbols[name]) for name in names), return_exceptions=True
    )
    for name, outcome in zip(names, outcomes):
        if isinstance(outcome, SeriesData):
            report.series.append(outcome)
        elif isinstance(outcome, SourceError):
            report.errors[name] = str(outcome)
            if isinstance(outcome, NotFound):
                report.missing.add(name)
            if outcome.retry_after is not None:
                report.retry_after = max(report.retry_after or 0.0, outcome.retry_after)
        elif isinstance(outcome, Exception):
            # A bug or an unforeseen payload: keep the cycle alive and say what happened.
            report.errors[name] = unexpected(outcome)
        else:
            raise outcome  # KeyboardInterrupt, CancelledError: let them through
    return report
