"""FRED: macro series, plus keyless fallbacks for oil, indices and the broad dollar.

Without a key we read ``fredgraph.csv``: its header is ``DATE,<ID>`` in older files and
``observation_date,<ID>`` since December 2024, and a missing value is ``.`` in older files
and an empty field in newer ones (shared/research/price-apis.md section 2). With a key
(the variable named by ``api_key_env``) we use the JSON API, where ``value`` is always a
string and ``"."`` is missing.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tracker.sources.base import (
    NotFound,
    PayloadError,
    Point,
    SeriesData,
    SourceError,
    SourceReport,
    fetch_each,
    plain,
)
from tracker.sources.http import HttpClient, HttpStatusError

if TYPE_CHECKING:
    from tracker.config import Settings

NAME = "fred"
MISSING = {"", "."}
OVERLAP = timedelta(days=400)  # macro data are revised for months: re-read a year of it


def _point(day_text: str, value_text: str) -> Point | None:
    value_text = value_text.strip()
    if value_text in MISSING:
        return None
    try:
        day = date.fromisoformat(day_text.strip())
        value = float(value_text)
        if not math.isfinite(value):  # "nan", "inf", "1e400": not a value FRED publishes
            raise ValueError(value_text)
    except ValueError:
        raise PayloadError(f"bad row {day_text!r}, {value_text!r}") from None
    return Point(ts=datetime.combine(day, time(), UTC), value=value)


def parse_csv(text: str, series_id: str) -> SeriesData:
    """Parse fredgraph.csv for one id: either header spelling, either missing marker."""
    if text.lstrip()[:1] == "<":
        raise PayloadError("expected CSV, got an HTML page")
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as exc:  # a bare carriage return, a field beyond the size limit
        raise PayloadError(f"unreadable CSV: {exc}") from None
    if not rows or len(rows[0]) < 2:
        raise PayloadError("expected CSV with a date column and a value column")
    header = [cell.strip() for cell in rows[0]]
    if header[0].upper() not in ("DATE", "OBSERVATION_DATE"):
        raise PayloadError(f"unexpected CSV header {','.join(header)!r}")
    column = header.index(series_id) if series_id in header else 1
    points = [
        point
        for row in rows[1:]
        if len(row) > column and (point := _point(row[0], row[column])) is not None
    ]
    return SeriesData(symbol=series_id, points=points)


def parse_json(payload: Any, series_id: str) -> SeriesData:
    """Parse fred/series/observations (file_type=json)."""
    if isinstance(payload, dict) and "error_message" in payload:
        raise _said(payload["error_message"])
    try:
        observations = payload["observations"]
        points = [_point(o["date"], str(o["value"])) for o in observations]
    except (KeyError, TypeError, AttributeError):  # AttributeError: a date that is no string
        raise PayloadError("unexpected observations payload") from None
    units = payload.get("units")
    return SeriesData(
        symbol=series_id,
        points=[p for p in points if p is not None],
        unit=units if isinstance(units, str) else None,
    )


def _api_key(settings: Settings) -> str | None:
    env = settings.sources.fred.api_key_env
    return os.environ.get(env) if env else None


async def _observations(
    http: HttpClient, settings: Settings, series_id: str, start: date, end: date | None = None
) -> SeriesData:
    """Observations from ``start`` (to ``end``): the JSON API with a key, else the CSV."""
    config = settings.sources.fred
    api_key = _api_key(settings)
    if not api_key:
        params = {"id": series_id, "cosd": start.isoformat()}
        if end:
            params["coed"] = end.isoformat()
        response = await http.get(f"{config.base_url}/graph/fredgraph.csv", params=params)
        return parse_csv(response.text, series_id)
    params = {
        "series_id": series_id,
        "api_key": api_key,
        "file_type": "json",
        "observation_start": start.isoformat(),
    }
    if end:
        params["observation_end"] = end.isoformat()
    try:
        payload = await http.get_json(f"{config.api_url}/fred/series/observations",
                                      origin="the FRED API", params=params)
    except HttpStatusError as exc:
        said = _error_from_body(exc.body)
        if said is None:
            raise
        said.retry_after = exc.retry_after
        raise said from None
    return parse_json(payload, series_id)


def _said(message: Any) -> SourceError:
    """FRED's ``error_message`` as an error. An unknown id is answered "Bad Request.  The
    series does not exist." (a 400; reports from 2020 quote a 404 "Not Found.  ...")."""
    message = plain(message)
    if "series does not exist" in message.lower():
        return NotFound("no such series")
    return SourceError(f"FRED says {message}")


def _error_from_body(body: str) -> SourceError | None:
    import json

    try:
        message = json.loads(body).get("error_message")
    except (ValueError, AttributeError, RecursionError):
        return None
    return _said(message) if message else None


class Fred:
    """``fred:<series id>``: observations as published, revisions included; one request
    reads a whole series' history."""

    name = NAME
    history_window = None

    async def fetch(
        self, http: HttpClient, settings: Settings, symbols: dict[str, date], now: datetime
    ) -> SourceReport:
        async def fetch_one(series_id: str, since: date) -> SeriesData:
            return await _observations(http, settings, series_id, since - OVERLAP)

        return await fetch_each(NAME, symbols, fetch_one)

    async def history(
        self, http: HttpClient, settings: Settings, symbol: str, meta: dict | None,
        windows: Sequence[tuple[datetime, datetime]],
    ) -> AsyncIterator[SeriesData]:
        for start, end in windows:  # FRED answers the days asked for, and only those
            yield await _observations(http, settings, symbol, start.date(), end.date())


SOURCE = Fred()
