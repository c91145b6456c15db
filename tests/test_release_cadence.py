"""Staleness by release cadence: a series is stale when it has missed its expected next
release, learned from when its points were first stored, not from the age of its newest
observation. Real observation dates (recorded FRED files), stored on the days the
publisher releases them, as a poll every few hours would store them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from db import queries
from tests.replay import FIXTURES
from tracker.config import settings_from_dict
from tracker.service.evaluation import load_inputs
from tracker.sources.base import Point
from tracker.sources.fred import parse_csv

NASDAQ = "fred:NASDAQCOM"  # daily observations; stored here as FRED stores WTI: weekly
WTI_MONTHLY = "fred:DCOILWTICO"  # monthly observations, released a few days after the month
SETTINGS = settings_from_dict({})  # macro every 6 hours


def recorded(name: str, symbol: str):
    return parse_csv((FIXTURES / "fred" / name).read_text(), symbol).points


def store(engine, series_id, points, arrived: datetime):
    source, symbol = series_id.split(":", 1)
    queries.ensure_series(engine, [{"id": series_id, "source": source, "symbol": symbol,
                                    "name": None, "unit": None, "first_seen_at": arrived,
                                    "state": None, "resolved_value": None, "meta": None}])
    queries.upsert_observations(engine, [{"series_id": series_id, "ts": p.ts, "value": p.value,
                                          "high": None, "low": None, "fetched_at": arrived}
                                         for p in points])
    queries.record_source_result(engine, source, arrived, None, [], None)


def poll_until(engine, series_id, points, release_days, until: datetime, every: timedelta):
    """Poll ``every`` so often until ``until``: each poll stores the newest few of what has
    been released by then (each observation becomes public on its release day)."""
    at = datetime.combine(release_days[0], time(), UTC)
    while at <= until:
        public = [p for p, day in zip(points, release_days) if day <= at.date()]
        if public:
            store(engine, series_id, public[-10:], at)
        at += every


def stale(engine, series_id, now):
    return load_inputs(engine, [series_id], now, SETTINGS)[series_id].stale


def weekly_release(day: date) -> date:
    """The Wednesday after the week holding ``day``: WTI's weekly publication."""
    return day + timedelta(days=(2 - day.weekday()) % 7 + (7 if day.weekday() <= 2 else 0))


def test_a_daily_series_published_weekly_is_not_stale_between_releases(any_engine):
    points = recorded("NASDAQCOM_DATE_dot_missing.csv", "NASDAQCOM")  # 2019-12-16 .. 2020-01-24
    releases = [weekly_release(p.ts.date()) for p in points]
    last_release = datetime.combine(max(releases), time(), UTC)
    poll_until(any_engine, NASDAQ, points, releases, last_release + timedelta(hours=18),
               timedelta(hours=12))
    # Six days after the last release, the newest observation is 11 days old: a daily
    # series by its dates, on time by its releases.
    six_days_on = last_release + timedelta(days=6, hours=12)
    assert (six_days_on - points[-1].ts).days >= 10
    assert not stale(any_engine, NASDAQ, six_days_on)
    # A release missed by more than a few days is stale.
    assert stale(any_engine, NASDAQ, last_release + timedelta(days=11))


def test_a_monthly_series_released_after_its_month_is_not_stale_until_a_release_is_missed(
    any_engine,
):
    points = [p for p in recorded("DCOILWTICO_observation_date_empty_missing.csv", "DCOILWTICO")
              if p.ts.year >= 2025]
    # Each month's average is published on the 3rd of the next month.
    releases = [(p.ts + timedelta(days=32)).date().replace(day=3) for p in points]
    last_release = datetime.combine(max(releases), time(), UTC)
    poll_until(any_engine, WTI_MONTHLY, points, releases, last_release + timedelta(hours=18),
               timedelta(days=4))
    almost_two_months_on = last_release + timedelta(days=40)
    assert not stale(any_engine, WTI_MONTHLY, almost_two_months_on)
    assert stale(any_engine, WTI_MONTHLY, last_release + timedelta(days=50))


def test_a_revised_point_keeps_the_time_it_first_arrived(any_engine):
    points = recorded("NASDAQCOM_DATE_dot_missing.csv", "NASDAQCOM")[:3]
    first = datetime(2020, 1, 1, tzinfo=UTC)
    store(any_engine, NASDAQ, points, first)
    store(any_engine, NASDAQ, points, first + timedelta(days=5))  # fetched again, revised
    newest = queries.newest_points(any_engine, [NASDAQ], 3)[NASDAQ]
    assert [row.first_seen_at for row in newest] == [first] * 3
    assert [row.fetched_at for row in newest] == [first + timedelta(days=5)] * 3


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_points_stored_before_first_seen_was_kept_arrive_at_their_first_known_fetch(
    request, sqlite_url, backend,
):
    from alembic import command
    from sqlalchemy import text

    from db.engine import _alembic_config, make_engine, open_database
    from db.types import UTCDateTime

    backend_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else sqlite_url
    old = make_engine(backend_url)
    with old.begin() as conn:
        command.upgrade(_alembic_config(conn), "0005")
    fetched = datetime(2026, 3, 1, tzinfo=UTC)
    stamp = UTCDateTime()
    with old.begin() as conn:
        conn.execute(text("INSERT INTO series (id, source, symbol, first_seen_at) "
                          "VALUES ('fred:NASDAQCOM', 'fred', 'NASDAQCOM', :t)")
                     .bindparams(t=stamp.process_bind_param(fetched, old.dialect)))
        conn.execute(text("INSERT INTO observation (series_id, ts, value, fetched_at) "
                          "VALUES ('fred:NASDAQCOM', :ts, 1.0, :t)")
                     .bindparams(ts=stamp.process_bind_param(fetched - timedelta(days=1), old.dialect),
                                 t=stamp.process_bind_param(fetched, old.dialect)))
    old.dispose()
    engine = open_database(backend_url)  # upgrades to the newest schema
    try:
        [row] = queries.newest_points(engine, [NASDAQ], 1)[NASDAQ]
        assert row.first_seen_at == fetched
        later = fetched + timedelta(days=3)
        queries.upsert_observations(engine, [{"series_id": NASDAQ, "ts": row.ts, "value": 2.0,
                                              "high": None, "low": None, "fetched_at": later}])
        [row] = queries.newest_points(engine, [NASDAQ], 1)[NASDAQ]
        assert (row.first_seen_at, row.fetched_at, row.value) == (fetched, later, 2.0)
    finally:
        engine.dispose()


def test_the_first_estimate_decides_and_a_revision_does_not_flip_the_verdict(any_engine):
    """An estimate of 2025 growth in 2.0-2.5: the first estimate (2.3) says right; BEA
    later revises it to 2.7, and the verdict stands."""
    from tracker.registry.loader import Registry, parse_prediction
    from tracker.service.evaluation import evaluate_all

    claim = parse_prediction({"id": "growth", "who": "X", "made_on": date(2025, 1, 10),
                              "claim": "c", "kind": "estimate", "series": "fred:A191RL1A225NBEA",
                              "on": date(2025, 1, 1), "range": [2.0, 2.5],
                              "deadline": date(2026, 3, 31)}, "test", 1)
    registry = Registry((claim,))
    annual = "fred:A191RL1A225NBEA"
    first_out = datetime(2026, 1, 30, tzinfo=UTC)
    store(any_engine, annual, [Point(datetime(2024, 1, 1, tzinfo=UTC), 2.8),
                               Point(datetime(2025, 1, 1, tzinfo=UTC), 2.3)], first_out)
    assert evaluate_all(any_engine, registry, first_out)["growth"].status.value == "right"
    revised = first_out + timedelta(days=60)
    store(any_engine, annual, [Point(datetime(2025, 1, 1, tzinfo=UTC), 2.7)], revised)
    result = evaluate_all(any_engine, registry, revised)["growth"]
    assert result.status.value == "right" and result.value == 2.3
    assert "the first estimate decides; since revised to 2.7" in result.explanation
    assert queries.latest_snapshots(any_engine)["growth"].status == "right"
