"""series.point_count: the number of points `tracker series` shows, kept by the writes
themselves (so listing series never counts every row), on SQLite and PostgreSQL: exact
after new, re-sent, overlapping and mixed batches, after a failed batch, with two writers
at once, and filled in by the migration on a database that already holds points."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.exc import IntegrityError

from db import queries
from db.engine import current_revision, head_revision, make_engine, open_database
from db.types import UTCDateTime

T0 = datetime(2026, 1, 2, tzinfo=UTC)
CL, HG, FED = "yahoo:CL=F", "yahoo:HG=F", "fred:DFEDTARU"


def add_series(engine, *series_ids):
    queries.upsert_series(engine, [
        {"id": sid, "source": sid.split(":", 1)[0], "symbol": sid.split(":", 1)[1],
         "name": None, "unit": None, "first_seen_at": T0}
        for sid in series_ids
    ])


def obs(day, series_id=CL, value=1.0):
    return {"series_id": series_id, "ts": T0 + timedelta(days=day), "value": value,
            "high": None, "low": None, "fetched_at": T0}


def shown_counts(engine) -> dict[str, int]:
    """The point counts `tracker series` shows."""
    return {row.id: row.points for row in queries.series_overview(engine)}


def true_counts(engine) -> dict[str, int]:
    """count(*) per series, every series included."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT s.id, (SELECT count(*) FROM observation o WHERE o.series_id = s.id) "
            "FROM series s"
        )).all())


def assert_counts(engine, expected: dict[str, int]) -> None:
    assert true_counts(engine) == expected  # the test's own arithmetic
    assert shown_counts(engine) == expected


def test_the_count_follows_new_resent_overlapping_and_mixed_batches(any_engine):
    add_series(any_engine, CL, HG, FED)
    assert_counts(any_engine, {CL: 0, HG: 0, FED: 0})

    queries.upsert_observations(any_engine, [obs(d) for d in range(10)])
    assert_counts(any_engine, {CL: 10, HG: 0, FED: 0})

    # The same rows again, revised values: all conflicts, nothing new.
    queries.upsert_observations(any_engine, [obs(d, value=2.0) for d in range(10)])
    assert_counts(any_engine, {CL: 10, HG: 0, FED: 0})

    # Overlapping: days 5-9 are stored, 10-14 are new.
    queries.upsert_observations(any_engine, [obs(d) for d in range(5, 15)])
    assert_counts(any_engine, {CL: 15, HG: 0, FED: 0})

    # Several series in one call, interleaved, with a gap filled inside CL's stored range
    # and the same new point twice in one batch.
    queries.upsert_observations(any_engine, [
        obs(-3), obs(0, HG), obs(20), obs(1, HG), obs(3), obs(100, FED), obs(20),
        obs(2, HG), obs(-1), obs(0, HG),
    ])
    assert_counts(any_engine, {CL: 18, HG: 3, FED: 1})


def test_the_count_is_exact_when_a_series_spans_several_batches(any_engine, monkeypatch):
    monkeypatch.setattr(queries, "UPSERT_BATCH", 7)
    add_series(any_engine, CL, HG)
    sent = queries.upsert_observations(
        any_engine, [obs(d, sid) for d in range(0, 30, 2) for sid in (CL, HG)]
    )
    assert sent == 30
    assert_counts(any_engine, {CL: 15, HG: 15})
    # Every day 0-39 of CL, half of them stored already, across batch boundaries.
    assert queries.upsert_observations(any_engine, (obs(d) for d in range(40))) == 40
    assert_counts(any_engine, {CL: 40, HG: 15})


def test_a_refused_batch_changes_no_count(any_engine):
    add_series(any_engine, CL)
    queries.upsert_observations(any_engine, [obs(0)])
    with pytest.raises(IntegrityError):
        queries.upsert_observations(any_engine, [obs(1), obs(2), obs(0, "yahoo:NOPE")])
    assert_counts(any_engine, {CL: 1})


def test_a_new_series_row_starts_at_zero_and_a_known_one_keeps_its_count(any_engine):
    add_series(any_engine, CL)
    queries.upsert_observations(any_engine, [obs(0), obs(1)])
    add_series(any_engine, CL)  # a poll upserts the series row again
    queries.ensure_series(any_engine, [{"id": CL, "source": "yahoo", "symbol": "CL=F",
                                        "name": "Crude", "unit": None, "first_seen_at": T0}])
    assert_counts(any_engine, {CL: 2})


def test_two_writers_of_the_same_series_at_once_keep_the_count_exact(any_engine):
    """Two connections upsert overlapping points of the same series at the same time, in
    opposite series order; neither fails, neither deadlocks, and no point is counted
    twice (without the series lock both would count a point both inserted)."""
    add_series(any_engine, CL, HG, FED)
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def write(order: tuple[str, ...], offset: int) -> None:
        try:
            start.wait()
            for n in range(40):
                base = n * 5 + offset
                queries.upsert_observations(
                    any_engine, [obs(base + d, sid) for sid in order for d in range(8)]
                )
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=((CL, HG), 0)),
               threading.Thread(target=write, args=((HG, CL, FED), 2))]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    assert errors == []
    assert not any(thread.is_alive() for thread in writers)
    counts = true_counts(any_engine)
    assert counts[CL] == counts[HG] == 40 * 5 + 5  # days 0..204
    assert shown_counts(any_engine) == counts


def test_the_count_equals_count_star_after_any_sequence_of_upserts(any_engine, monkeypatch):
    """Property: whatever batches arrive (new, re-sent, overlapping, several series, a
    series split over batch boundaries), every series shows count(*)."""
    monkeypatch.setattr(queries, "UPSERT_BATCH", 5)
    add_series(any_engine, CL, HG, FED)
    point = st.tuples(st.sampled_from([CL, HG, FED]), st.integers(0, 40))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.lists(point, max_size=12), min_size=1, max_size=4))
    def prop(calls):
        for call in calls:
            queries.upsert_observations(any_engine, [obs(day, sid) for sid, day in call])
        assert shown_counts(any_engine) == true_counts(any_engine)

    prop()


# --- the migration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_migration_fills_in_the_count_of_points_already_stored(request, sqlite_url, backend):
    from alembic import command

    from db.engine import _alembic_config

    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else sqlite_url
    old = make_engine(url)
    with old.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
    stamp = UTCDateTime()  # timestamps stored as the project stores them
    with old.begin() as conn:  # what 0004 held: series and their points, no count
        conn.execute(text(
            "INSERT INTO series (id, source, symbol, first_seen_at) VALUES "
            "('yahoo:CL=F', 'yahoo', 'CL=F', :t), ('yahoo:HG=F', 'yahoo', 'HG=F', :t), "
            "('fred:DFEDTARU', 'fred', 'DFEDTARU', :t)"
        ).bindparams(bindparam("t", type_=stamp)), {"t": T0})
        conn.execute(text(
            "INSERT INTO observation (series_id, ts, value, fetched_at) "
            "VALUES (:sid, :ts, 1.0, :ts)"
        ).bindparams(bindparam("ts", type_=stamp)),
            [obs(d, sid) | {"sid": sid} for sid, n in ((CL, 7), (HG, 3)) for d in range(n)])
    old.dispose()

    engine = open_database(url)
    try:
        assert current_revision(engine) == head_revision()
        assert shown_counts(engine) == {CL: 7, HG: 3, FED: 0}
        # And from there the writes keep it.
        queries.upsert_observations(engine, [obs(d) for d in range(5, 10)])
        assert_counts(engine, {CL: 10, HG: 3, FED: 0})

        # Down to 0004 and up again: the column goes, and comes back counted.
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0004")
        with engine.connect() as conn:
            columns = [column["name"] for column in inspect(conn).get_columns("series")]
            assert "point_count" not in columns
        engine.dispose()
        engine = open_database(url)
        assert shown_counts(engine) == {CL: 10, HG: 3, FED: 0}
    finally:
        engine.dispose()
