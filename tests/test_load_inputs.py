"""What the evaluators are given: each series from its own start, read in a few queries,
and judged stale on its newest points even when the window holds only a few."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db import queries
from tracker.freshness import RECENT
from tracker.service.evaluation import load_inputs

NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)
GDP = "fred:A191RL1A225NBEA"  # annual: one point a year, dated January 1st
OIL = "yahoo:CL=F"
NEW = "yahoo:NEW"  # a series with no points yet


def store(engine, series_id, stamps, fetched_at=NOW):
    source, symbol = series_id.split(":", 1)
    queries.upsert_series(engine, [{"id": series_id, "source": source, "symbol": symbol, "name": None,
                                    "unit": None, "first_seen_at": NOW, "state": None,
                                    "resolved_value": None, "meta": None}])
    queries.upsert_observations(engine, [{"series_id": series_id, "ts": ts, "value": float(i),
                                          "high": None, "low": None, "fetched_at": fetched_at}
                                         for i, ts in enumerate(stamps)])


def test_each_series_is_read_from_its_own_start(any_engine):
    days = [datetime(2026, 7, 1, tzinfo=UTC) + timedelta(days=i) for i in range(31)]
    store(any_engine, OIL, days)
    store(any_engine, GDP, [datetime(2016 + i, 1, 1, tzinfo=UTC) for i in range(10)])
    queries.upsert_series(any_engine, [{"id": NEW, "source": "yahoo", "symbol": "NEW", "name": None,
                                        "unit": None, "first_seen_at": NOW, "state": None,
                                        "resolved_value": None, "meta": None}])
    since = {OIL: datetime(2026, 7, 20, tzinfo=UTC), GDP: datetime(2024, 6, 1, tzinfo=UTC)}
    inputs = load_inputs(any_engine, [OIL, GDP, NEW], NOW, since=since)
    assert [p.ts for p in inputs[OIL].points] == days[19:]
    assert [p.ts.year for p in inputs[GDP].points] == [2025]
    assert inputs[NEW].points == [] and inputs[NEW].stale


def test_a_slow_series_with_one_point_in_its_window_is_judged_by_its_cadence(any_engine):
    store(any_engine, GDP, [datetime(2016 + i, 1, 1, tzinfo=UTC) for i in range(10)])
    since = {GDP: datetime(2024, 6, 1, tzinfo=UTC)}
    # Only 2025-01-01 is in the window; the years before it show an annual cadence, so a
    # value 19 months old is on time, not stale (a daily series would be).
    assert not load_inputs(any_engine, [GDP], NOW, since=since)[GDP].stale
    assert load_inputs(any_engine, [GDP], NOW + timedelta(days=400), since=since)[GDP].stale


def test_a_series_its_source_no_longer_refreshes_goes_stale(any_engine):
    from tracker.config import settings_from_dict

    days = [NOW - timedelta(days=20 - i) for i in range(20)]
    store(any_engine, OIL, days, fetched_at=NOW - timedelta(hours=2))
    queries.record_source_result(any_engine, "yahoo", NOW - timedelta(minutes=1), "HTTP 500", ["CL=F"], None)
    settings = settings_from_dict({})  # prices every 15 minutes: 3 polls missed long ago
    assert load_inputs(any_engine, [OIL], NOW, settings)[OIL].stale
    store(any_engine, OIL, days, fetched_at=NOW)  # refreshed again
    assert not load_inputs(any_engine, [OIL], NOW, settings)[OIL].stale


def test_a_short_history_shows_its_cadence():
    from tracker.freshness import DAILY_MAX_AGE, max_age
    from tracker.sources.base import Point

    three_years = [Point(datetime(2023 + i, 1, 1, tzinfo=UTC), 2.0) for i in range(3)]
    assert max_age(three_years) > timedelta(days=730)  # was read as daily: stale in 4 days
    assert max_age(three_years[:1]) == DAILY_MAX_AGE  # one point shows no cadence


def test_market_odds_are_read_from_their_newest_points_only(any_engine):
    from types import SimpleNamespace

    from tracker.service.evaluation import latest_only

    def prediction(kind, *series):
        return SimpleNamespace(kind=kind, series_ids=lambda: list(series))

    odds, shared = "polymarket:odds", "polymarket:shared"
    registry = [prediction("market", odds), prediction("market", shared),
                prediction("threshold", shared), prediction("threshold", OIL)]
    assert latest_only(registry) == {odds}  # a series another kind reads keeps its history
    every_5_minutes = [NOW - timedelta(minutes=5 * i) for i in range(2000)][::-1]
    store(any_engine, odds, every_5_minutes)
    inputs = load_inputs(any_engine, [odds], NOW, since={odds: NOW - timedelta(days=400)},
                         newest_only={odds})
    assert [p.ts for p in inputs[odds].points] == every_5_minutes[-RECENT:]
    assert inputs[odds].points[-1].value == 1999.0 and not inputs[odds].stale
