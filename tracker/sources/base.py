"""What every source produces, and the errors it may raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.points import Point
from tracker.redact import redact


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
