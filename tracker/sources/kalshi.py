"""Kalshi trade API v2: ``kalshi:<TICKER>`` is the probability of "yes".

Prices are ``*_dollars`` decimal strings (the integer-cent fields are gone since 2026).
The probability is the midpoint of the yes bid and ask when both are real quotes, else
the last trade. ``status`` and ``result`` give resolution: ``yes``/``no`` settle to
1/0; ``scalar`` settles at ``settlement_value_dollars`` (neither yes nor no).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from tracker.sources.base import PayloadError, Point, SeriesData, SourceError, fetch_each
from tracker.sources.http import HttpClient, HttpStatusError

NAME = "kalshi"
SETTLED = {"finalized", "settled"}
CLOSED = {"closed", "determined"}


def _dollars(market: dict, field: str) -> float | None:
    value = market.get(field)
    if value in (None, ""):
        return None
    try:
        price = float(str(value))
    except ValueError:
        raise PayloadError(f"{field} holds a non-number {value!r}") from None
    if not 0.0 <= price <= 1.0:  # NaN too: every price of a $1 contract is within 0..1
        raise PayloadError(f"{field} holds {value!r}, outside 0..1")
    return price


def yes_price(market: dict) -> float | None:
    bid = _dollars(market, "yes_bid_dollars")
    ask = _dollars(market, "yes_ask_dollars")
    if bid is not None and ask is not None and 0.0 < bid <= ask < 1.0:
        return (bid + ask) / 2.0
    last = _dollars(market, "last_price_dollars")
    return last if last else None


def market_state(market: dict) -> tuple[str, float | None]:
    status = str(market.get("status") or "").lower()
    result = str(market.get("result") or "").lower()
    if status in SETTLED or result in ("yes", "no", "scalar"):
        if result == "yes":
            return "resolved", 1.0
        if result == "no":
            return "resolved", 0.0
        if result == "scalar":
            return "resolved", _dollars(market, "settlement_value_dollars")
        return "closed", None
    if status == "disputed":
        return "disputed", None  # a settlement under dispute can still flip
    if status in CLOSED:
        return "closed", None
    return "open", None


def parse_market(payload: Any, ticker: str, now: datetime) -> SeriesData:
    market = payload.get("market") if isinstance(payload, dict) else None
    if not isinstance(market, dict):
        raise PayloadError("expected {\"market\": {...}}")
    state, resolved = market_state(market)
    price = resolved if state == "resolved" and resolved is not None else yes_price(market)
    if price is None:
        if "yes_bid_dollars" not in market and "yes_bid" in market:
            raise PayloadError("old integer-cent schema without *_dollars fields")
        raise PayloadError("no yes price: no quotes and no trades")
    return SeriesData(
        symbol=ticker,
        points=[Point(ts=now, value=price)],
        name=market["title"] if isinstance(market.get("title"), str) else None,
        unit="probability",
        state=state,
        resolved_value=resolved,
        meta={"event_ticker": market.get("event_ticker")} if market.get("event_ticker") else None,
    )


def _candle_price(side: Any, name: str) -> float | None:
    """``close_dollars`` in the live tier, ``close`` in the historical one; null when empty."""
    if not isinstance(side, dict):
        return None
    value = side.get(f"{name}_dollars", side.get(name))
    if value in (None, ""):
        return None
    try:
        price = float(str(value))
    except ValueError:
        raise PayloadError(f"candle {name} holds a non-number {value!r}") from None
    if not 0.0 <= price <= 1.0:  # NaN too
        raise PayloadError(f"candle {name} holds {value!r}, outside 0..1")
    return price


def parse_candlesticks(payload: Any) -> list[Point]:
    """One point per candle: its closing trade; in a period without trades, the yes
    bid/ask midpoint when both sides are real quotes, else the last trade before it
    (``previous``). Candles are sparse: a period with no activity has no candle."""
    if not isinstance(payload, dict) or not isinstance(payload.get("candlesticks"), list):
        raise PayloadError("expected {\"candlesticks\": [...]}")
    points = []
    for candle in payload["candlesticks"]:
        try:
            ts = datetime.fromtimestamp(int(candle["end_period_ts"]), UTC)
        except (KeyError, TypeError, ValueError, OverflowError, OSError):  # beyond any date
            raise PayloadError(f"candle without end_period_ts: {candle!r}"[:120]) from None
        price = _candle_price(candle.get("price"), "close")
        if price is None:
            bid = _candle_price(candle.get("yes_bid"), "close")
            ask = _candle_price(candle.get("yes_ask"), "close")
            if bid is not None and ask is not None and 0.0 < bid <= ask < 1.0:
                price = (bid + ask) / 2.0
            else:
                price = _candle_price(candle.get("price"), "previous")
        if price is not None:
            points.append(Point(ts=ts, value=price))
    return points


async def fetch(http: HttpClient, settings, symbols: dict, now: datetime):
    base = settings.sources.kalshi.base_url

    async def fetch_one(ticker: str, _since) -> SeriesData:
        try:
            response = await http.get(f"{base}/markets/{quote(ticker, safe='')}")
        except HttpStatusError as exc:
            if exc.status == 404:
                raise SourceError(f"no Kalshi market {ticker}") from None
            raise
        try:
            payload = response.json()
        except ValueError:
            raise PayloadError("expected JSON from Kalshi") from None
        return parse_market(payload, ticker, now)

    return await fetch_each(NAME, symbols, fetch_one)


# --- history, for `tracker backfill` --------------------------------------------------------

HISTORY_WINDOW = timedelta(days=200)  # hourly candles: under Kalshi's ~5,000 per request
CANDLE_MINUTES = 60


async def _get_json(http: HttpClient, url: str, params: dict | None = None) -> Any:
    response = await http.get(url, params=params)
    try:
        return response.json()
    except ValueError:
        raise PayloadError("expected JSON from Kalshi") from None


async def history_context(http: HttpClient, settings, ticker: str, meta: dict | None) -> str:
    """The market's series ticker, which the candlestick path needs: via its event."""
    base = settings.sources.kalshi.base_url
    event_ticker = (meta or {}).get("event_ticker")
    if not event_ticker:
        market = (await _get_json(http, f"{base}/markets/{quote(ticker, safe='')}")).get("market")
        event_ticker = (market or {}).get("event_ticker")
    if not event_ticker:
        raise PayloadError(f"no event ticker for {ticker}")
    event = (await _get_json(http, f"{base}/events/{quote(event_ticker, safe='')}")).get("event")
    series = (event or {}).get("series_ticker")
    if not series:
        raise PayloadError(f"event {event_ticker} names no series ticker")
    return series


async def history(http: HttpClient, settings, ticker: str, series: str, start: datetime, end: datetime):
    """Live-tier candles; a market old enough to be archived answers 404 there, and its
    candles come from the historical tier instead."""
    base = settings.sources.kalshi.base_url
    params = {
        "start_ts": str(int(start.timestamp())),
        "end_ts": str(int(end.timestamp())),
        "period_interval": str(CANDLE_MINUTES),
    }
    live = f"{base}/series/{quote(series, safe='')}/markets/{quote(ticker, safe='')}/candlesticks"
    try:
        payload = await _get_json(http, live, params)
    except HttpStatusError as exc:
        if exc.status != 404:
            raise
        archived = f"{base}/historical/markets/{quote(ticker, safe='')}/candlesticks"
        payload = await _get_json(http, archived, params)
    return SeriesData(symbol=ticker, points=parse_candlesticks(payload), unit="probability")
