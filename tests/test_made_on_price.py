"""The price on the day a claim was made, as the scoreboard and the digest use it: the
same price the whole history gives, evaluated once from the points up to that day,
then kept and read back; evaluated again for an edited claim, and for a claim that had
none once a backfill adds history."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from db import queries
from tracker.config import settings_from_dict
from tracker.freshness import RECENT
from tracker.registry import Registry, load_registry
from tracker.service import made_on
from tracker.service.evaluation import (
    OPEN_STATUSES,
    evaluate_all,
    evaluate_registry,
    inputs_as_of,
    load_inputs,
    needed_since,
)
from tracker.service.made_on import made_on_prices

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
OIL = "yahoo:CL=F"
MADE_ON = date(2026, 6, 10)
OIL_OVER_90 = {"id": "oil-90", "who": "Tester", "made_on": MADE_ON, "claim": "WTI touches $90",
               "kind": "threshold", "series": OIL, "target": 90.0, "direction": "above"}


def whole_history_prices(engine, registry) -> dict[str, float]:
    """The made_on prices as they were found before they were kept: every series read
    from the registry's lookback to now, the whole registry evaluated as of each day."""
    inputs = load_inputs(engine, registry.series_ids(), NOW, since=needed_since(registry))
    prices = {}
    for day in sorted({p.made_on for p in registry}):
        when = datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(seconds=1)
        results = evaluate_registry(registry, inputs_as_of(inputs, when), when)
        for prediction in registry:
            result = results[prediction.id]
            if (prediction.made_on == day and result.status in OPEN_STATUSES
                    and result.probability is not None):
                prices[prediction.id] = result.probability
    return prices


def add_series(engine, series_id, state=None):
    source, symbol = series_id.split(":", 1)
    queries.upsert_series(engine, [{"id": series_id, "source": source, "symbol": symbol,
                                    "name": None, "unit": None, "first_seen_at": NOW,
                                    "state": state, "resolved_value": None, "meta": None}])


def store(engine, series_id, points):
    queries.upsert_observations(engine, [
        {"series_id": series_id, "ts": ts, "value": value, "high": value * 1.01,
         "low": value * 0.99, "fetched_at": NOW} for ts, value in points])


def daily_walk(rng, first: date, last: date, start=100.0):
    """A price that moves about 1.5% a day, one bar a calendar day."""
    value, day, points = start, first, []
    while day <= last:
        value *= 1 + rng.gauss(0, 0.015)
        points.append((datetime.combine(day, time(), UTC), value))
        day += timedelta(days=1)
    return points


def oil_claims(**changes) -> Registry:
    return load_registry(settings_from_dict({"registry": {"bundled": False},
                                             "prediction": [OIL_OVER_90 | changes]}))


@pytest.fixture
def oil(engine):
    """Oil from 2025-06-01 to 2026-11-20, a walk that stays below $90 until after made_on."""
    add_series(engine, OIL)
    store(engine, OIL, daily_walk(random.Random(3), date(2025, 6, 1), date(2026, 11, 20), 60.0))
    return engine


def test_the_bundled_registry_gets_the_prices_its_whole_history_gives(engine):
    bundled = load_registry(settings_from_dict({}))
    days = [date(2025, 11, 20), date(2026, 1, 10), date(2026, 3, 2), date(2026, 6, 15),
            date(2026, 9, 30)]
    registry = Registry(tuple(p.model_copy(update={"made_on": days[i % len(days)]})
                              for i, p in enumerate(bundled)), bundled.universes)
    rng = random.Random(16)
    for series_id in registry.series_ids():
        source = series_id.split(":", 1)[0]
        market = source in ("polymarket", "kalshi")
        add_series(engine, series_id, "open" if market else None)
        if market:  # a market polled every six hours since October 2025
            first = datetime(2025, 10, 1, tzinfo=UTC)
            store(engine, series_id, [(first + timedelta(hours=6 * i), 0.3 + 0.4 * rng.random())
                                      for i in range(4 * 415)])
        elif source != "edgar":
            store(engine, series_id, daily_walk(rng, date(2024, 9, 1), date(2026, 11, 20)))
    expected = whole_history_prices(engine, registry)
    assert len(expected) >= 20  # markets, ranks, races and composites among them

    assert made_on_prices(engine, registry) == expected  # evaluated now: nothing kept yet
    made_on.keep_prices(engine, registry, NOW)
    assert queries.made_on_price_rows(engine, [p.id for p in registry]).keys() == {
        p.id for p in registry}
    assert made_on_prices(engine, registry) == expected  # read back


def test_a_kept_price_is_read_not_evaluated_again(oil, monkeypatch):
    registry = oil_claims()
    evaluate_all(oil, registry, NOW)
    (price,) = made_on_prices(oil, registry).values()
    assert 0.0 < price < 1.0

    # The bar of the made_on day is revised: the whole history now gives another price,
    # but the kept one stands, and no point is read to give it.
    store(oil, OIL, [(datetime.combine(MADE_ON, time(), UTC), 88.0)])
    assert whole_history_prices(oil, registry)["oil-90"] != pytest.approx(price)
    monkeypatch.setattr(queries, "points_between", reads_nothing)
    monkeypatch.setattr(queries, "newest_points_until", reads_nothing)
    evaluate_all(oil, registry, NOW + timedelta(minutes=5))
    assert made_on_prices(oil, registry) == {"oil-90": price}


def reads_nothing(*_args, **_kwargs):
    raise AssertionError("a kept price was evaluated again")


def test_an_edited_claim_is_priced_again_and_a_reworded_one_is_not(oil, monkeypatch):
    evaluate_all(oil, oil_claims(), NOW)
    (kept,) = made_on_prices(oil, oil_claims()).values()

    edited = oil_claims(target=80.0)
    assert made_on_prices(oil, edited) == whole_history_prices(oil, edited)  # before a poll
    evaluate_all(oil, edited, NOW)
    (priced,) = made_on_prices(oil, edited).values()
    assert priced == whole_history_prices(oil, edited)["oil-90"] and priced > kept

    later = oil_claims(target=80.0, made_on=date(2026, 7, 1))
    evaluate_all(oil, later, NOW)
    assert made_on_prices(oil, later) == whole_history_prices(oil, later) != {"oil-90": priced}

    monkeypatch.setattr(queries, "points_between", reads_nothing)
    reworded = oil_claims(target=80.0, made_on=date(2026, 7, 1), claim="Oil tops $80")
    evaluate_all(oil, reworded, NOW)
    assert made_on_prices(oil, reworded) == whole_history_prices(oil, later)


def test_a_claim_without_a_price_is_tried_again_once_a_backfill_adds_history(engine, monkeypatch):
    registry = oil_claims()
    add_series(engine, OIL)
    walk = daily_walk(random.Random(3), date(2025, 6, 1), date(2026, 11, 20), 60.0)
    store(engine, OIL, [p for p in walk if p[0].date() > MADE_ON])  # polled after the claim
    evaluate_all(engine, registry, NOW)
    assert made_on_prices(engine, registry) == {}
    (row,) = queries.made_on_price_rows(engine, ["oil-90"]).values()
    assert row.price is None

    # Nothing changed in its window: the next evaluations do not try again.
    with monkeypatch.context() as patched:
        patched.setattr(queries, "points_between", reads_nothing)
        evaluate_all(engine, registry, NOW + timedelta(minutes=5))
        store(engine, OIL, [(NOW, 70.0)])  # a new bar, after its day
        evaluate_all(engine, registry, NOW + timedelta(minutes=10))

    store(engine, OIL, [p for p in walk if p[0].date() <= MADE_ON])  # the backfill
    evaluate_all(engine, registry, NOW + timedelta(minutes=15))
    expected = whole_history_prices(engine, registry)
    assert expected and made_on_prices(engine, registry) == expected
    assert queries.made_on_price_rows(engine, ["oil-90"])["oil-90"].price == expected["oil-90"]


def test_a_price_is_kept_only_once_its_day_is_past(oil):
    registry = oil_claims()
    evening = datetime.combine(MADE_ON, time(20), UTC)
    evaluate_all(oil, registry, evening)
    assert queries.made_on_price_rows(oil, ["oil-90"]) == {}
    assert made_on_prices(oil, registry) == whole_history_prices(oil, registry)  # all the same
    evaluate_all(oil, registry, evening + made_on.KEEP_AFTER + timedelta(hours=4))
    assert queries.made_on_price_rows(oil, ["oil-90"])["oil-90"].price is not None


def test_a_market_call_reads_only_its_markets_last_points_of_that_day(engine, monkeypatch):
    market = "polymarket:oil-over-90"
    add_series(engine, market, "open")
    first = datetime(2026, 5, 1, tzinfo=UTC)
    store(engine, market, [(first + timedelta(minutes=5 * i), 0.2 + (i % 50) / 100)
                           for i in range(60 * 288)])  # sixty days, every five minutes
    registry = load_registry(settings_from_dict({"registry": {"bundled": False}, "prediction": [
        {"id": "odds", "who": "Tester", "made_on": MADE_ON, "claim": "yes", "kind": "market",
         "series": market, "side": "yes"}]}))
    read = []

    def spy(real):
        def reading(*args, **kwargs):
            found = real(*args, **kwargs)
            read.extend(ts for points in found.values() for ts, *_ in points)
            return found
        return reading

    for name in ("points_between", "newest_points_until"):
        monkeypatch.setattr(queries, name, spy(getattr(queries, name)))

    assert made_on_prices(engine, registry) == whole_history_prices(engine, registry)
    assert len(read) == RECENT and max(read) < datetime.combine(MADE_ON + timedelta(days=1), time(), UTC)


def test_a_composite_is_priced_again_when_one_of_its_parts_is_edited(oil):
    def claims(part_target):
        return load_registry(settings_from_dict({"registry": {"bundled": False}, "prediction": [
            OIL_OVER_90 | {"id": "oil-high", "scored": False},
            OIL_OVER_90 | {"id": "oil-higher", "target": part_target, "scored": False},
            {"id": "either", "who": "Tester", "made_on": MADE_ON, "claim": "one of them",
             "kind": "any_of", "of": ["oil-high", "oil-higher"]}]}))

    evaluate_all(oil, claims(120.0), NOW)
    before = made_on_prices(oil, claims(120.0))["either"]
    edited = claims(85.0)
    evaluate_all(oil, edited, NOW)
    after = queries.made_on_price_rows(oil, ["either"])["either"].price
    assert after == whole_history_prices(oil, edited)["either"] != before
