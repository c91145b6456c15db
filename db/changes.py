"""Change-only storage: which points of a batch change their series' value.

A market is polled every few minutes and its odds hold for hours, so its points are
stored only where the value changes; the series row keeps when a poll last confirmed the
value (``series.confirmed_at``). Read as a step function, each stored value holds until
the next point, and the newest one until that confirmation.

History (a backfill, a gap filled after downtime) may arrive after polls have been
stored around it. So each new point is judged against the values in force around it,
stored and new taken together in time order, and the confirmation counts as a stored
point of the newest value: when new points before it change the value, the confirmed
value is stored at its time, so the odds the poll saw stay the newest ones.

What change-only storage cannot keep: a poll's repeat of a value, dropped, whose time a
later history point then falls before. From that point the history's value holds until
the next stored one.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, literal, select, union_all

from db.models import Observation, Series

_OBS = Observation.__table__
_SERIES = Series.__table__
CHUNK = 150  # series per query: 3 SELECTs each, and SQLite allows 500 in a UNION


@dataclass
class Around:
    """What is stored around a batch, by series id."""

    # Points stored within the batch's span, the one just before it, and the newest.
    stored: dict[str, dict[datetime, float]] = field(default_factory=lambda: defaultdict(dict))
    # The newest value and when a poll last confirmed it, where that is after its point.
    held: dict[str, tuple[datetime, float]] = field(default_factory=dict)


def only_changes(batch: list[dict[str, Any]], around: Around) -> list[dict[str, Any]]:
    """The rows of ``batch`` that change their series' value, in time order, and the
    confirmed value again where new points before its confirmation changed it.

    Walking the stored and the new points together in time order, a new point is kept
    when its value differs from the value in force just before it; one that repeats it is
    dropped: the value held. A new point at a time already stored is always kept, so a
    revised value replaces the old one.
    """
    by_series: dict[str, dict[datetime, dict[str, Any]]] = defaultdict(dict)
    for row in batch:
        by_series[row["series_id"]][row["ts"]] = row
    kept = []
    for series_id, rows in sorted(by_series.items()):
        known = around.stored.get(series_id, {})
        held = around.held.get(series_id)
        times = known.keys() | rows.keys() | ({held[0]} if held else set())
        in_force = None
        for ts in sorted(times):
            row = rows.get(ts)
            if row is not None:
                if ts in known or row["value"] != in_force:
                    kept.append(row)
                in_force = row["value"]
            elif ts in known:
                in_force = known[ts]
            else:  # the confirmation: the poll saw the held value then
                if in_force != held[1]:
                    kept.append(_confirmed_point(series_id, *held))
                in_force = held[1]
    return kept


def _confirmed_point(series_id: str, at: datetime, value: float) -> dict[str, Any]:
    """The row of a value a poll saw at ``at`` (market points carry no high or low)."""
    return {"series_id": series_id, "ts": at, "value": value, "high": None, "low": None,
            "fetched_at": at, "first_seen_at": at}


def range_params(spans: list[tuple[str, tuple[datetime, datetime]]]) -> dict[str, Any]:
    """The parameters s0, lo0, hi0, s1, ... of a query over one timestamp range per series."""
    params: dict[str, Any] = {}
    for i, (sid, (lo, hi)) in enumerate(spans):
        params |= {f"s{i}": sid, f"lo{i}": lo, f"hi{i}": hi}
    return params


def read_around(conn, ranges: dict[str, tuple[datetime, datetime]]) -> Around:
    """What ``only_changes`` needs to know of each series, for batches spanning
    ``ranges`` (series id -> first and last timestamp)."""
    around = Around()
    newest: dict[str, tuple[datetime, float]] = {}
    spans = sorted(ranges.items())
    for start in range(0, len(spans), CHUNK):
        chunk = spans[start:start + CHUNK]
        params = range_params(chunk)
        for series_id, ts, value, is_newest in conn.execute(_around_query(len(chunk)), params):
            around.stored[series_id][ts] = value
            if is_newest:
                newest[series_id] = (ts, value)
        confirmed = select(_SERIES.c.id, _SERIES.c.confirmed_at).where(
            _SERIES.c.id.in_([sid for sid, _ in chunk]), _SERIES.c.confirmed_at.is_not(None))
        for series_id, confirmed_at in conn.execute(confirmed):
            if series_id in newest and confirmed_at > newest[series_id][0]:
                around.held[series_id] = (confirmed_at, newest[series_id][1])
    return around


@functools.lru_cache(maxsize=64)
def _around_query(n: int):
    """The points query of read_around for ``n`` series (parameters s0, lo0, hi0, s1, ...):
    three index searches per series, for the span, the point before it and the newest
    point, each row marked whether it is the newest. Built once per ``n``."""
    ts = _OBS.c.ts
    parts = []
    for i in range(n):
        series_id = _OBS.c.series_id == bindparam(f"s{i}")
        lo, hi = bindparam(f"lo{i}", type_=ts.type), bindparam(f"hi{i}", type_=ts.type)
        inside = (_OBS.c.series_id, ts, _OBS.c.value, literal(False).label("is_newest"))
        newest = (_OBS.c.series_id, ts, _OBS.c.value, literal(True).label("is_newest"))
        parts.append(select(*inside).where(series_id, ts.between(lo, hi)))
        before = select(*inside).where(series_id, ts < lo).order_by(ts.desc()).limit(1)
        parts.append(select(*before.subquery(f"before{i}").c))
        last = select(*newest).where(series_id).order_by(ts.desc()).limit(1)
        parts.append(select(*last.subquery(f"newest{i}").c))
    return union_all(*parts)
