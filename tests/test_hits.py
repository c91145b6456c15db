"""Each person's expected hits over the year, read from stored snapshots on a small
hand-built database: a claim resolving mid-year steps to a hit, an open claim's chance
moving moves the line, a verdict by hand counts from when it was given, and calls with
no chance add nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db import queries
from tests.evalhelp import prediction
from tracker.hits import HitsLine, State, expected_hits_over_time, sample_times
from tracker.scoreboard import score
from tracker.service.hits import expected_hits

JAN = datetime(2026, 1, 1, tzinfo=UTC)
MID = datetime(2026, 7, 1, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)


def claim(pid, who, scored=True):
    return prediction(id=pid, who=who, kind="manual", scored=scored)


PREDICTIONS = [
    claim("ann-resolves", "Ann"), claim("ann-moves", "Ann"),
    claim("bob-by-hand", "Bob"), claim("bob-unpriced", "Bob"),
    claim("cat-none", "Cat"), claim("cat-part", "Cat", scored=False),
]


def snap(pid, at, status, probability=None, model="test"):
    return {"prediction_id": pid, "at": at, "status": status, "probability": probability,
            "explanation": "", "model": model}


@pytest.fixture
def stored(any_engine):
    """A year of snapshots (stored on change), and one verdict given by hand."""
    queries.add_snapshots(any_engine, [
        snap("ann-resolves", JAN, "on_track", 0.6),
        snap("ann-moves", JAN, "on_track", 0.2),
        snap("bob-by-hand", JAN, "open"),
        snap("bob-unpriced", JAN, "no_data"),
        snap("cat-none", JAN, "open"),
        snap("cat-part", JAN, "right"),  # a composite's part: never counted
        snap("ann-moves", datetime(2026, 4, 1, tzinfo=UTC), "on_track", 0.5),
        snap("ann-resolves", MID, "right", 1.0),
        snap("ann-moves", datetime(2026, 9, 1, tzinfo=UTC), "off_track", 0.3),
        snap("bob-by-hand", datetime(2026, 10, 1, tzinfo=UTC), "wrong", None, model="manual"),
        snap("bob-unpriced", END, "no_data"),
    ])
    queries.set_resolution(any_engine, "bob-by-hand", "wrong", "checked",
                           datetime(2026, 10, 1, tzinfo=UTC))
    return any_engine


def at(chart, who: str, moment: datetime) -> float:
    """``who``'s expected hits at the newest sample at or before ``moment``."""
    line = next(line for line in chart.lines if line.who == who)
    return [v for t, v in zip(chart.times, line.values, strict=True) if t <= moment][-1]


def test_a_claim_resolving_mid_year_steps_to_a_hit_and_a_moving_chance_moves_the_line(stored):
    with queries.reading(stored) as run:
        chart = expected_hits(run, PREDICTIONS)
    assert chart.times[0] == JAN and chart.times[-1] == END
    assert [line.who for line in chart.lines] == ["Ann", "Bob", "Cat"]
    assert at(chart, "Ann", JAN) == pytest.approx(0.6 + 0.2)
    assert at(chart, "Ann", datetime(2026, 6, 20, tzinfo=UTC)) == pytest.approx(0.6 + 0.5)
    assert at(chart, "Ann", datetime(2026, 7, 10, tzinfo=UTC)) == pytest.approx(1.0 + 0.5)
    assert at(chart, "Ann", END) == pytest.approx(1.0 + 0.3)
    ann = chart.lines[0]
    assert (ann.claims, ann.resolved) == (2, 1)


def test_calls_without_a_chance_add_nothing_and_parts_are_not_counted(stored):
    with queries.reading(stored) as run:
        chart = expected_hits(run, PREDICTIONS)
    bob, cat = chart.lines[1:]
    assert set(bob.values) == {0.0} and set(cat.values) == {0.0}
    assert (cat.claims, cat.resolved) == (1, 0)  # the part is not Cat's claim
    assert (bob.claims, bob.resolved) == (2, 1)  # the verdict by hand


def test_the_last_moment_is_the_scoreboards_expected_hits(stored):
    latest = {pid: (s.status, s.probability, s.model)
              for pid, s in queries.latest_snapshots(stored).items()}
    board = {row.who: row.expected_hits for row in score(PREDICTIONS, latest, {})}
    with queries.reading(stored) as run:
        chart = expected_hits(run, PREDICTIONS)
    assert {line.who: line.now for line in chart.lines} == pytest.approx(board)


def test_a_verdict_by_hand_counts_from_when_it_was_given():
    """Even where no snapshot says so yet, a verdict by hand overrides the data from its
    moment on, and not before."""
    given = datetime(2026, 6, 1, tzinfo=UTC)
    times = [JAN, datetime(2026, 5, 31, tzinfo=UTC), given, END]
    states = {"ann-moves": [State(JAN, "on_track", 0.4)]}
    lines = expected_hits_over_time([claim("ann-moves", "Ann")], states,
                                    {"ann-moves": State(given, "right", None)}, times)
    assert lines["Ann"].values == pytest.approx([0.4, 0.4, 1.0, 1.0])
    assert lines["Ann"].resolved == 1


def test_a_claim_is_counted_from_its_first_snapshot_on():
    times = [JAN, MID, END]
    states = {"late": [State(MID + timedelta(days=1), "on_track", 0.7)]}
    lines = expected_hits_over_time([claim("late", "Ann")], states, {}, times)
    assert lines["Ann"].values == pytest.approx([0.0, 0.0, 0.7])


def test_samples_run_weekly_over_this_year_from_the_first_snapshot():
    times = sample_times(datetime(2025, 6, 1, tzinfo=UTC), END)
    assert times[0] == JAN and times[1] == JAN + timedelta(weeks=1) and times[-1] == END
    assert len(times) == 49  # 1 January, 47 more Thursdays, 30 November
    assert sample_times(MID, MID) == [MID]
    later = sample_times(MID + timedelta(hours=5), END)
    assert later[0] == MID + timedelta(hours=5) and later[1] == MID + timedelta(days=1)  # a Thursday, as 1 January


def test_a_short_span_is_sampled_daily_then_hourly():
    days = sample_times(END - timedelta(days=10), END)
    assert len(days) == 11 and days[1] - days[0] == timedelta(days=1)
    quarters = sample_times(END - timedelta(days=7), END)
    assert len(quarters) == 29 and quarters[1] - quarters[0] == timedelta(hours=6)
    hours = sample_times(END - timedelta(hours=30), END)
    assert len(hours) == 31 and hours[2] - hours[1] == timedelta(hours=1)


def test_no_snapshot_no_chart(any_engine):
    with queries.reading(any_engine) as run:
        assert expected_hits(run, PREDICTIONS) is None


def test_a_line_without_samples_is_at_zero():
    assert HitsLine("Ann").now == 0.0
