"""Yahoo Finance chart v8: daily bars for futures, indices, stocks, the dollar, crypto.

Quirks handled (shared/research/price-apis.md section 1.3): ``chart.error`` on 404 and
sometimes on 200; an empty window has no ``timestamp`` and ``quote: [{}]``; null values
inside the arrays (a bar without a close is dropped, never filled); bars are stamped at
the session start in the exchange's zone, so the trading date comes from
``exchangeTimezoneName`` (never from ``gmtoffset``, which is today's offset); the live
bar of an open session can repeat today's date: the last one wins, and it is rewritten
by later polls until the session closes.

A symbol ending in ``#total`` (``yahoo:TLT#total``) is the same chart read as a total
return: the adjusted close, which reinvests dividends and coupons, with no high or low.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.sources.base import (
    NotFound,
    PayloadError,
    Point,
    SeriesData,
    SourceError,
    SourceReport,
    fetch_each,
    plain,
    within,
)
from tracker.sources.http import BROWSER_USER_AGENT, HttpClient, HttpStatusError

if TYPE_CHECKING:
    from tracker.config import Settings

NAME = "yahoo"
OVERLAP = timedelta(days=7)  # re-read recent bars: late prints and revisions
TOTAL_RETURN = "#total"


def ticker_of(symbol: str) -> tuple[str, bool]:
    """Yahoo's ticker for a series symbol, and whether it is read as a total return."""
    if symbol.endswith(TOTAL_RETURN):
        return symbol[: -len(TOTAL_RETURN)], True
    return symbol, False


def chart_url(base_url: str, symbol: str) -> str:
    return f"{base_url}/v8/finance/chart/{quote(symbol, safe='=')}"


def range_params(start: datetime, end: datetime) -> dict[str, str]:
    return {
        "period1": str(int(start.timestamp())),
        "period2": str(int(end.timestamp())),
        "interval": "1d",
        "includePrePost": "false",
    }


def chart_params(since: date, now: datetime) -> dict[str, str]:
    start = datetime.combine(since - OVERLAP, time(), UTC)
    return range_params(start, now + timedelta(days=1))  # period2 is fuzzy: over-fetch


def _chart_error(payload: Any) -> SourceError | None:
    """The error a chart body carries, if any: NotFound when Yahoo's code says the
    symbol is unknown (its 404 body: ``{"code": "Not Found", "description": "No data
    found, symbol may be delisted"}``)."""
    chart = payload.get("chart") if isinstance(payload, dict) else None
    error = chart.get("error") if isinstance(chart, dict) else None
    if not error:
        return None
    if not isinstance(error, dict):
        return SourceError(f"Yahoo says {plain(error)}")
    said = plain(": ".join(str(error[k]) for k in ("code", "description") if error.get(k)))
    if error.get("code") == "Not Found":
        return NotFound(f"no such symbol: Yahoo says {said}")
    return SourceError(f"Yahoo says {said}")


def parse_chart(payload: Any, symbol: str, total_return: bool = False) -> SeriesData:
    """Turn a chart v8 body into daily points keyed by the exchange's trading date; with
    ``total_return``, the adjusted closes."""
    error = _chart_error(payload)
    if error:
        raise error
    try:
        result = payload["chart"]["result"][0]
        meta = result["meta"]
    except (KeyError, IndexError, TypeError):
        raise PayloadError("unexpected chart payload: no chart.result[0].meta") from None
    meta = _shaped(meta, dict, "meta")
    zone = _zone(meta.get("exchangeTimezoneName"))
    stamps = _shaped(result.get("timestamp") or [], list, "timestamp")  # absent: empty window
    indicators = _shaped(result.get("indicators") or {}, dict, "indicators")
    quote = _shaped(indicators.get("quote") or [{}], list, "quote")
    quotes = _shaped(quote[0] or {}, dict, "quote[0]")
    if total_return:
        closes, highs, lows = _adjusted_closes(indicators), [], []
    else:
        closes = _shaped(quotes.get("close") or [], list, "close")
        highs = _shaped(quotes.get("high") or [], list, "high")
        lows = _shaped(quotes.get("low") or [], list, "low")
    if stamps and len(closes) != len(stamps):
        raise PayloadError(f"{len(stamps)} timestamps but {len(closes)} closes")
    if closes and not stamps:
        raise PayloadError("closes without timestamps: the chart's shape has changed")

    by_date: dict[date, Point] = {}
    for i, stamp in enumerate(stamps):
        close = _number(closes[i])
        if close is None:
            continue  # a null bar: skip it, never forward-fill
        try:
            day = datetime.fromtimestamp(stamp, zone).date()
        except (TypeError, ValueError, OverflowError, OSError):
            raise PayloadError(f"bad timestamp {stamp!r}"[:120]) from None
        by_date[day] = Point(  # a repeated date (live bar) replaces the earlier one
            ts=datetime.combine(day, time(), UTC),
            value=close,
            high=_number(highs[i]) if i < len(highs) else None,
            low=_number(lows[i]) if i < len(lows) else None,
        )
    return SeriesData(
        symbol=symbol,
        points=sorted(by_date.values(), key=lambda p: p.ts),
        # shortName is often cut and capitalised ("BRITISH AMERICAN TOBACCO PLC OR")
        name=_text(meta.get("longName")) or _text(meta.get("shortName")),
        unit=_text(meta.get("currency")),
    )


def _adjusted_closes(indicators: dict) -> list:
    adjusted = _shaped(indicators.get("adjclose") or [{}], list, "adjclose")
    return _shaped(_shaped(adjusted[0] or {}, dict, "adjclose[0]").get("adjclose") or [],
                   list, "adjclose")


def _shaped(value: Any, kind: type, field: str) -> Any:
    if not isinstance(value, kind):
        raise PayloadError(f"unexpected chart payload: {field} is not a {kind.__name__}")
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None  # stored in a text column


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a directory
        return UTC


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return number if math.isfinite(number) else None  # NaN and infinity are missing too


def _error_from_body(body: str) -> SourceError | None:
    import json

    try:
        return _chart_error(json.loads(body))
    except (ValueError, RecursionError):
        return None


async def _chart(http: HttpClient, settings: Settings, symbol: str, params: dict) -> SeriesData:
    ticker, total_return = ticker_of(symbol)
    url = chart_url(settings.sources.yahoo.base_url, ticker)
    try:
        payload = await http.get_json(url, origin="Yahoo", params=params,
                                      headers={"User-Agent": BROWSER_USER_AGENT})
    except HttpStatusError as exc:
        # A 404 carries {"chart": {"error": {...}}}: say what Yahoo said.
        said = _error_from_body(exc.body)
        if said is None:
            raise
        said.retry_after = exc.retry_after
        raise said from None
    return parse_chart(payload, symbol, total_return)


class Yahoo:
    """``yahoo:<ticker>``: daily bars, read a year per request for history."""

    name = NAME
    history_window = timedelta(days=366)

    async def fetch(
        self, http: HttpClient, settings: Settings, symbols: dict[str, date], now: datetime
    ) -> SourceReport:
        async def fetch_one(symbol: str, since: date) -> SeriesData:
            return await _chart(http, settings, symbol, chart_params(since, now))

        return await fetch_each(NAME, symbols, fetch_one)

    async def history(
        self, http: HttpClient, settings: Settings, symbol: str, meta: dict | None,
        windows: Sequence[tuple[datetime, datetime]],
    ) -> AsyncIterator[SeriesData]:
        for start, end in windows:
            series = await _chart(http, settings, symbol, range_params(start, end))
            series.points = within(series.points, start, end)
            yield series


SOURCE = Yahoo()
