"""Kalshi trade API v2: ``kalshi:<TICKER>`` is the probability of "yes".

Prices are ``*_dollars`` decimal strings (the integer-cent fields are gone since 2026).
The probability is the midpoint of the yes bid and ask when both are real quotes, else
the last trade. ``status`` and ``result`` give resolution: ``yes``/``no`` settle to
1/0; ``scalar`` settles at ``settlement_value_dollars`` (neither yes nor no).

A poll lists its tickers in batches, ``GET /markets?tickers=A,B,...``; a ticker the list
leaves out (unknown, or settled long enough ago to be archived) or whose list request
failed is asked for on its own, ``GET /markets/{ticker}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tracker.sources.base import (
    NotFound,
    PayloadError,
    Point,
    SeriesData,
    SourceError,
    SourceReport,
    fetch_each,
    midpoint,
    probability,
    within,
)
from tracker.sources.http import HttpClient, HttpStatusError

if TYPE_CHECKING:
    from tracker.config import Settings

NAME = "kalshi"
ORIGIN = "Kalshi"  # how an error message names the API
SETTLED = {"finalized", "settled"}
CLOSED = {"closed", "determined"}


def _dollars(market: dict, field: str) -> float | None:
    value = market.get(field)
    return None if value in (None, "") else probability(value, field)


def yes_price(market: dict) -> float | None:
    mid = midpoint(_dollars(market, "yes_bid_dollars"), _dollars(market, "yes_ask_dollars"))
    if mid is not None:
        return mid
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
    return None if value in (None, "") else probability(value, f"candle {name}")


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
            price = midpoint(_candle_price(candle.get("yes_bid"), "close"),
                             _candle_price(candle.get("yes_ask"), "close"))
            if price is None:
                price = _candle_price(candle.get("price"), "previous")
        if price is not None:
            points.append(Point(ts=ts, value=price))
    return points


# One ``GET /markets?tickers=...`` answers for many tickers. 100 keeps the URL a few KB
# long; ``limit`` covers the whole batch, so one page is the rule and a cursor the exception.
TICKERS_PER_REQUEST = 100
MAX_PAGES = 10  # a batch fits one page; a server that keeps sending cursors is cut off


async def list_markets(http: HttpClient, base: str, tickers: list[str]) -> dict[str, dict]:
    """The market objects ``GET /markets?tickers=...`` lists for these tickers (at most
    TICKERS_PER_REQUEST), by ticker.

    Tickers it does not list are simply absent: unknown ones, and settled markets old
    enough to have moved to the historical tier. Raises SourceError when a page fails.
    """
    wanted = set(tickers)
    found: dict[str, dict] = {}
    params = {"tickers": ",".join(tickers), "limit": str(TICKERS_PER_REQUEST)}
    cursor = ""
    for _ in range(MAX_PAGES):
        page = (params | {"cursor": cursor}) if cursor else params
        payload = await http.get_json(f"{base}/markets", origin=ORIGIN, params=page)
        markets = payload.get("markets") if isinstance(payload, dict) else None
        if not isinstance(markets, list):
            raise PayloadError("expected {\"cursor\": ..., \"markets\": [...]}")
        for market in markets:
            ticker = market.get("ticker") if isinstance(market, dict) else None
            if isinstance(ticker, str) and ticker in wanted:
                found.setdefault(ticker, market)
        # Stop on an empty cursor or an empty page (Kalshi can send a cursor on the last
        # page too), and as soon as every ticker asked for is in hand.
        cursor = payload.get("cursor") or ""
        if not cursor or not markets or len(found) == len(wanted):
            break
    return found


async def _market(http: HttpClient, base: str, ticker: str, now: datetime) -> SeriesData:
    """One market on its own path, ``GET /markets/{ticker}``."""
    try:
        payload = await http.get_json(f"{base}/markets/{quote(ticker, safe='')}", origin=ORIGIN)
    except HttpStatusError as exc:
        if exc.status == 404:
            # Unknown; or archived, which only a market settled months ago is.
            raise NotFound("no such market") from None
        raise
    return parse_market(payload, ticker, now)


def _rate_limited(exc: SourceError) -> bool:
    """The server said too many requests, or asked us to wait."""
    return exc.retry_after is not None or (isinstance(exc, HttpStatusError) and exc.status == 429)


# --- history, for `tracker backfill` --------------------------------------------------------

CANDLE_MINUTES = 60


def _object(payload: Any, key: str) -> dict:
    """``payload[key]`` when both are JSON objects, else an empty one."""
    inner = payload.get(key) if isinstance(payload, dict) else None
    return inner if isinstance(inner, dict) else {}


async def _series_ticker(http: HttpClient, base: str, ticker: str, meta: dict | None) -> str:
    """The market's series ticker, which the candlestick path needs: via its event."""
    event_ticker = (meta or {}).get("event_ticker")
    if not event_ticker:
        payload = await http.get_json(f"{base}/markets/{quote(ticker, safe='')}", origin=ORIGIN)
        event_ticker = _object(payload, "market").get("event_ticker")
    if not event_ticker:
        raise PayloadError(f"no event ticker for {ticker}")
    payload = await http.get_json(f"{base}/events/{quote(event_ticker, safe='')}", origin=ORIGIN)
    series = _object(payload, "event").get("series_ticker")
    if not series:
        raise PayloadError(f"event {event_ticker} names no series ticker")
    return series


async def _candles(
    http: HttpClient, base: str, ticker: str, series: str, start: datetime, end: datetime
) -> SeriesData:
    """Live-tier candles; a market old enough to be archived answers 404 there, and its
    candles come from the historical tier instead."""
    params = {
        "start_ts": str(int(start.timestamp())),
        "end_ts": str(int(end.timestamp())),
        "period_interval": str(CANDLE_MINUTES),
    }
    live = f"{base}/series/{quote(series, safe='')}/markets/{quote(ticker, safe='')}/candlesticks"
    try:
        payload = await http.get_json(live, origin=ORIGIN, params=params)
    except HttpStatusError as exc:
        if exc.status != 404:
            raise
        archived = f"{base}/historical/markets/{quote(ticker, safe='')}/candlesticks"
        payload = await http.get_json(archived, origin=ORIGIN, params=params)
    points = within(parse_candlesticks(payload), start, end)
    return SeriesData(symbol=ticker, points=points, unit="probability")


class Kalshi:
    """``kalshi:<TICKER>``: the probability of yes; its history from hourly candles."""

    name = NAME
    history_window = timedelta(days=200)  # hourly candles: under Kalshi's ~5,000 per request

    async def fetch(
        self, http: HttpClient, settings: Settings, symbols: dict[str, date], now: datetime
    ) -> SourceReport:
        base = settings.sources.kalshi.base_url
        # A comma would split a symbol in the list query: such a symbol goes on its own path.
        listable = [t for t in symbols if t and "," not in t]
        batches = [listable[i:i + TICKERS_PER_REQUEST]
                   for i in range(0, len(listable), TICKERS_PER_REQUEST)]
        listed: dict[str, dict] = {}
        refused: dict[str, SourceError] = {}

        async def list_batch(batch: list[str]) -> None:
            try:
                listed.update(await list_markets(http, base, batch))
            except SourceError as exc:
                if _rate_limited(exc):
                    # A request per ticker would only add to the load. Every ticker of
                    # the batch fails with the wait the server asked for.
                    refused.update(dict.fromkeys(batch, exc))
                # Anything else (5xx after retries, a timeout, bad JSON): each ticker
                # falls back to its own request, so a failing list costs one extra
                # request, never a ticker.

        # A batch of one is one request either way: its own path answers it, and a missing
        # ticker then costs one request, not two.
        await asyncio.gather(*(list_batch(b) for b in batches if len(b) > 1))

        async def fetch_one(ticker: str, _since: date) -> SeriesData:
            if ticker in refused:
                raise refused[ticker]
            market = listed.get(ticker)
            if market is None:  # not listed: unknown (404 there), archived, or the list failed
                return await _market(http, base, ticker, now)
            return parse_market({"market": market}, ticker, now)

        return await fetch_each(NAME, symbols, fetch_one)

    async def history(
        self, http: HttpClient, settings: Settings, symbol: str, meta: dict | None,
        windows: Sequence[tuple[datetime, datetime]],
    ) -> AsyncIterator[SeriesData]:
        base = settings.sources.kalshi.base_url
        series = await _series_ticker(http, base, symbol, meta)
        for start, end in windows:
            yield await _candles(http, base, symbol, series, start, end)


SOURCE = Kalshi()
