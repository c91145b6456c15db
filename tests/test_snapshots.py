"""Snapshots are stored only when something a user would see changed: the status, the
probability by more than 0.001, the headline value, or a manual verdict."""

from datetime import timedelta

from db import queries
from tests.test_db import T0, add_series, obs
from tracker.config import settings_from_dict
from tracker.registry import load_registry
from tracker.service.evaluation import evaluate_all

OIL_UNDER_45 = {
    "id": "oil-45", "who": "Tester", "made_on": T0.date(), "claim": "WTI touches $45",
    "kind": "threshold", "series": "yahoo:CL=F", "target": 45.0, "direction": "below",
}


def history(engine):
    return queries.snapshot_history(engine, "oil-45")


def test_polls_with_nothing_new_store_nothing_and_each_change_once(engine):
    registry = load_registry(settings_from_dict({"registry": {"bundled": False},
                                                 "prediction": [OIL_UNDER_45]}))
    add_series(engine)
    # Sixty days of a wobbling price, so the model has a volatility to work with.
    queries.upsert_observations(engine, [obs(d, 60.0 + (d % 3) - 1) for d in range(60)])
    now = T0 + timedelta(days=59, hours=1)

    evaluate_all(engine, registry, now)
    # Polls every five minutes for an hour, with no new data: the odds barely drift.
    for minutes in range(5, 65, 5):
        evaluate_all(engine, registry, now + timedelta(minutes=minutes))
    assert len(history(engine)) == 1

    # A new close moves the headline value: stored.
    queries.upsert_observations(engine, [obs(60, 52.0)])
    evaluate_all(engine, registry, now + timedelta(days=1))
    assert [s.value for s in history(engine)] == [61.0, 52.0]  # day 59 closed at 61

    # The price touches $45: the status flips to right, stored once.
    queries.upsert_observations(engine, [obs(61, 44.0)])
    for hours in (24 * 2, 24 * 2 + 1):
        evaluate_all(engine, registry, now + timedelta(hours=hours))
    assert [s.status for s in history(engine)][-2:] == ["on_track", "right"]
    assert len(history(engine)) == 3

    # A manual verdict is a change too, and a new note on it as well.
    later = now + timedelta(days=3)
    queries.set_resolution(engine, "oil-45", "void", "bad print", later)
    evaluate_all(engine, registry, later)
    queries.set_resolution(engine, "oil-45", "void", "exchange cancelled the trade", later)
    evaluate_all(engine, registry, later)
    evaluate_all(engine, registry, later + timedelta(minutes=5))
    assert [s.explanation for s in history(engine)][-2:] == [
        f"resolved void by hand on {later:%Y-%m-%d}: bad print",
        f"resolved void by hand on {later:%Y-%m-%d}: exchange cancelled the trade",
    ]
    assert len(history(engine)) == 5


def test_an_open_manual_claim_says_it_awaits_a_verdict_and_a_new_reason_is_stored(engine):
    claim = {"id": "hunch", "who": "Tester", "made_on": T0.date(), "claim": "A hunch",
             "kind": "manual", "reason": "a judgement call"}

    def evaluate(reason):
        registry = load_registry(settings_from_dict({
            "registry": {"bundled": False}, "prediction": [claim | {"reason": reason}]}))
        evaluate_all(engine, registry, T0)
        evaluate_all(engine, registry, T0 + timedelta(minutes=5))  # nothing new: not stored

    evaluate("a judgement call")
    evaluate("no public series counts this")
    assert [s.explanation for s in queries.snapshot_history(engine, "hunch")] == [
        "awaits a manual resolution (tracker resolve): a judgement call",
        "awaits a manual resolution (tracker resolve): no public series counts this",
    ]


def test_status_reads_each_claims_newest_snapshot_among_many(any_engine):
    """The newest snapshot of each claim is the one stored last, whatever its time says
    and however the claims' snapshots interleave, on SQLite and PostgreSQL."""
    claims = ["b-claim", "a-claim", "c-claim", "a-claim-2"]
    rows, expected = [], {}
    for i in range(40):
        claim = claims[(i * 7) % len(claims)]
        # Times run backwards for one claim: the last stored still wins.
        at = T0 - timedelta(hours=i) if claim == "c-claim" else T0 + timedelta(hours=i)
        rows.append({"prediction_id": claim, "at": at, "status": "on_track",
                     "probability": i / 100, "explanation": f"step {i}"})
        expected[claim] = f"step {i}"
    for row in rows:  # one at a time, so ids follow the order stored
        queries.add_snapshots(any_engine, [row])

    latest = queries.latest_snapshots(any_engine)

    assert {claim: snap.explanation for claim, snap in latest.items()} == expected
