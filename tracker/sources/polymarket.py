"""Polymarket: current odds from Gamma, history from the CLOB.

Series ``polymarket:<market-slug>`` is the probability of the market's "Yes" outcome.
Quirks handled (shared/research/markets-apis.md sections 1-2): ``outcomes``,
``outcomePrices`` and ``clobTokenIds`` are JSON inside strings (native arrays accepted
too); outcomes are matched by name, never by position; keys with zero values are often
missing; numbers come as strings or numbers. A market is final only when ``closed`` and
``umaResolutionStatus == "resolved"``: the winner is the outcome priced 1, and 0.5/0.5 is
a void; "proposed" and "disputed" are never final, whatever the prices say.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tracker.sources.base import (
    NotFound,
    PayloadError,
    Point,
    SeriesData,
    SourceError,
    SourceReport,
    plain,
    probability,
    within,
)
from tracker.sources.http import HttpClient

if TYPE_CHECKING:
    from tracker.config import Settings

NAME = "polymarket"
NO_SUCH_MARKET = "no such market"  # Gamma answers an unknown slug with an empty array
SLUGS_PER_REQUEST = 20  # Gamma takes repeated ?slug= keys; keep URLs short


def _list(value: Any, field: str) -> list:
    """Gamma sends some arrays as JSON text: decode either form."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
            raise PayloadError(f"{field} is not JSON: {value[:60]!r}") from None
    if not isinstance(value, list):
        raise PayloadError(f"{field} is missing or not a list")
    return value


def yes_index(outcomes: list) -> int:
    names = [str(o).strip().lower() for o in outcomes]
    if "yes" not in names:
        raise PayloadError(f"outcomes are {plain(', '.join(map(str, outcomes)))}, not Yes/No")
    return names.index("yes")


def market_state(market: dict, yes_price: float, prices: list[float]) -> tuple[str, float | None]:
    """(state, resolved value of Yes) from Gamma's resolution fields."""
    uma = str(market.get("umaResolutionStatus") or "").lower()
    closed = bool(market.get("closed"))
    if uma == "disputed":
        return "disputed", None
    if uma == "proposed":
        return "proposed", None
    if closed and uma == "resolved":
        if all(abs(p - 0.5) < 1e-9 for p in prices):
            return "void", None
        if yes_price in (0.0, 1.0):
            return "resolved", yes_price
        return "closed", None  # resolved, but no outcome priced 1: wait for clean prices
    if closed and not uma and (yes_price < 1e-3 or yes_price > 1 - 1e-3):
        # Legacy (2021) AMM markets carry no UMA fields and settle at ~1e-7 / ~0.9999996.
        return "resolved", float(round(yes_price))
    return ("closed" if closed else "open"), None


def parse_market(market: Any, now: datetime) -> SeriesData:
    if not isinstance(market, dict) or not market.get("slug"):
        raise PayloadError("market object without a slug")
    outcomes = _list(market.get("outcomes"), "outcomes")
    prices = [probability(p, "outcomePrices")
              for p in _list(market.get("outcomePrices"), "outcomePrices")]
    if len(prices) != len(outcomes):
        raise PayloadError(f"{len(outcomes)} outcomes but {len(prices)} prices")
    index = yes_index(outcomes)
    tokens = market.get("clobTokenIds")
    tokens = _list(tokens, "clobTokenIds") if tokens else []
    state, resolved = market_state(market, prices[index], prices)
    meta = {
        "id": market.get("id"),
        "condition_id": market.get("conditionId"),
        "yes_token": str(tokens[index]) if len(tokens) == len(outcomes) else None,
        "end_date": market.get("endDate"),
    }
    return SeriesData(
        symbol=market["slug"],
        points=[Point(ts=now, value=prices[index])],
        name=market["question"] if isinstance(market.get("question"), str) else None,
        unit="probability",
        state=state,
        resolved_value=resolved,
        meta={k: v for k, v in meta.items() if v is not None},
    )


def parse_markets(payload: Any, slugs: list[str], now: datetime) -> SourceReport:
    """One Gamma /markets answer for several slugs: a series or an error for each."""
    report = SourceReport(NAME)
    if not isinstance(payload, list):
        raise PayloadError("expected a JSON array of markets")
    by_slug = {
        m["slug"]: m for m in payload if isinstance(m, dict) and isinstance(m.get("slug"), str)
    }
    for slug in slugs:
        if slug not in by_slug:
            report.errors[slug] = NO_SUCH_MARKET
            report.missing.add(slug)
            continue
        try:
            report.series.append(parse_market(by_slug[slug], now))
        except SourceError as exc:
            report.errors[slug] = str(exc)
    return report


def parse_history(payload: Any) -> list[tuple[datetime, float]]:
    """CLOB /prices-history: {"history": [{"t": unix seconds, "p": price}, ...]}."""

    if not isinstance(payload, dict) or not isinstance(payload.get("history"), list):
        raise PayloadError("expected {\"history\": [...]}")
    points = []
    for item in payload["history"]:
        try:
            points.append((datetime.fromtimestamp(int(item["t"]), UTC), probability(item["p"], "p")))
        except (KeyError, TypeError, ValueError, OverflowError, OSError):  # t beyond any date
            raise PayloadError(f"bad history item {item!r}") from None
    return points


def parse_search(payload: Any) -> list[dict[str, Any]]:
    """Gamma /public-search: the markets inside the matching events, flattened."""
    if not isinstance(payload, dict):
        raise PayloadError("expected a JSON object from /public-search")
    events = payload.get("events") or []
    if not isinstance(events, list):
        raise PayloadError("expected a list of events from /public-search")
    found = []
    for event in events:
        markets = event.get("markets") if isinstance(event, dict) else None
        for market in markets if isinstance(markets, list) else []:
            if not isinstance(market, dict) or not market.get("slug"):
                continue
            try:
                outcomes = _list(market.get("outcomes"), "outcomes")
                prices = _list(market.get("outcomePrices"), "outcomePrices")
                price = probability(prices[yes_index(outcomes)], "outcomePrices")
            except (SourceError, IndexError):
                price = None  # not a Yes/No market, or no prices yet: still worth listing
            found.append(
                {
                    "slug": market["slug"],
                    "question": market.get("question") or event.get("title"),
                    "event": event.get("slug"),
                    "yes_price": price,
                    "end_date": market.get("endDate") or event.get("endDate"),
                    "closed": bool(market.get("closed")),
                }
            )
    return found


async def search(http: HttpClient, settings: Settings, text: str) -> list[dict[str, Any]]:
    gamma = settings.sources.polymarket.gamma_url
    payload = await http.get_json(f"{gamma}/public-search", origin="Gamma", params={"q": text})
    return parse_search(payload)


# --- history, for `tracker backfill` --------------------------------------------------------

HISTORY_FIDELITY_MINUTES = 60


async def _yes_token(http: HttpClient, settings: Settings, slug: str, meta: dict | None) -> str:
    """The Yes outcome's CLOB token id: from the stored series, else from Gamma."""
    if meta and meta.get("yes_token"):
        return meta["yes_token"]
    gamma = settings.sources.polymarket.gamma_url
    payload = await http.get_json(f"{gamma}/markets", origin="Gamma", params={"slug": slug})
    report = parse_markets(payload, [slug], datetime.now(UTC))
    if slug in report.errors:
        error = NotFound if slug in report.missing else SourceError
        raise error(report.errors[slug])
    token = (report.series[0].meta or {}).get("yes_token")
    if not token:
        raise PayloadError("the market lists no CLOB token for Yes")
    return token


async def _prices(
    http: HttpClient, settings: Settings, slug: str, token: str, start: datetime, end: datetime
) -> SeriesData:
    clob = settings.sources.polymarket.clob_url
    payload = await http.get_json(
        f"{clob}/prices-history",
        origin="the CLOB",
        params={
            "market": token,
            "startTs": str(int(start.timestamp())),
            "endTs": str(int(end.timestamp())),
            "fidelity": str(HISTORY_FIDELITY_MINUTES),
        },
    )
    points = within([Point(ts=ts, value=p) for ts, p in parse_history(payload)], start, end)
    return SeriesData(symbol=slug, points=points, unit="probability")


class Polymarket:
    """``polymarket:<market slug>``: the price of Yes, from Gamma; its history from the
    CLOB."""

    name = NAME
    # The CLOB answers long intervals for resolved markets with nothing: 14 days at a time.
    history_window = timedelta(days=14)

    async def fetch(
        self, http: HttpClient, settings: Settings, symbols: dict[str, date], now: datetime
    ) -> SourceReport:
        gamma = settings.sources.polymarket.gamma_url
        slugs = list(symbols)
        batches = [slugs[i:i + SLUGS_PER_REQUEST]
                   for i in range(0, len(slugs), SLUGS_PER_REQUEST)]

        async def fetch_batch(batch: list[str]) -> SourceReport:
            try:
                payload = await http.get_json(f"{gamma}/markets", origin="Gamma",
                                              params=[("slug", s) for s in batch])
                return parse_markets(payload, batch, now)
            except SourceError as exc:
                failed = SourceReport(NAME, errors={slug: str(exc) for slug in batch})
                failed.retry_after = exc.retry_after
                return failed

        report = SourceReport(NAME)
        for part in await asyncio.gather(*(fetch_batch(b) for b in batches)):
            report.series += part.series
            report.errors |= part.errors
            report.missing |= part.missing
            if part.retry_after:
                report.retry_after = max(report.retry_after or 0.0, part.retry_after)
        return report

    async def history(
        self, http: HttpClient, settings: Settings, symbol: str, meta: dict | None,
        windows: Sequence[tuple[datetime, datetime]],
    ) -> AsyncIterator[SeriesData]:
        token = await _yes_token(http, settings, symbol, meta)
        for start, end in windows:
            yield await _prices(http, settings, symbol, token, start, end)


SOURCE = Polymarket()
