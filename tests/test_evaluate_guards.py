"""The lines a person reads when an evaluator cannot judge a claim: one situation (no data,
stale data, data that stop before a passed deadline) in the same words for every kind, and
decided stays decided however stale the data are."""

from datetime import UTC, date, datetime

import pytest

from tests.evalhelp import daily, day, prediction
from tracker.evaluate import SeriesInput, Status, evaluate
from tracker.points import Point

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
JAN1 = date(2026, 1, 1)
OIL, SPX, GOLD = "yahoo:CL=F", "yahoo:^GSPC", "yahoo:GC=F"
GDP = "fred:A191RL1A225NBEA"
POLY = "polymarket:us-gdp-growth-above-5-in-2026"
LABELS = {OIL: "WTI crude", SPX: "S&P 500", GOLD: "gold", GDP: "US real GDP growth"}

PREDICTIONS = {
    "threshold": lambda: prediction(kind="threshold", series=OIL, target=90, direction="above"),
    "race": lambda: prediction(kind="race", series=OIL, target=45, against=90),
    "outperform": lambda: prediction(kind="outperform", series=OIL, benchmark=SPX, start=JAN1),
    "rank": lambda: prediction(kind="rank", series=OIL, universe=[SPX, GOLD], start=JAN1),
    "level": lambda: prediction(kind="level", series=GDP, target=5.0, direction="above",
                                on=date(2026, 1, 1)),
    "estimate": lambda: prediction(kind="estimate", series=GDP, range=[1.5, 2.5],
                                   on=date(2026, 1, 1)),
}
# The series a kind is judged on; the others get a fresh history.
JUDGED = {"level": GDP, "estimate": GDP}


def fresh(series_id: str) -> list[Point]:
    if series_id == GDP:
        return [Point(day(date(2024, 1, 1)), 2.8), Point(day(date(2025, 1, 1)), 2.1)]
    return daily(JAN1, [60.0 + (i % 3) for i in range(59)])  # to 28 Feb


def feed(kind: str, points: list[Point] | None = None, stale: bool = False):
    judged = JUDGED.get(kind, OIL)
    ids = {judged, *prediction_ids(kind)}
    return {
        sid: SeriesInput(
            sid,
            (fresh(sid) if points is None else points) if sid == judged else fresh(sid),
            stale=stale and sid == judged,
            label=LABELS[sid],
        )
        for sid in ids
    }


def prediction_ids(kind: str) -> list[str]:
    return PREDICTIONS[kind]().series_ids()


@pytest.mark.parametrize("kind", PREDICTIONS)
def test_a_series_without_points_reads_no_data_in_one_phrase(kind):
    result = evaluate(PREDICTIONS[kind](), feed(kind, points=[]), NOW)
    name = LABELS[JUDGED.get(kind, OIL)]
    assert result.status is Status.NO_DATA
    assert result.explanation == f"no data for {name} yet"
    assert result.probability is None


@pytest.mark.parametrize("kind", PREDICTIONS)
def test_a_stale_series_reads_no_data_with_its_last_point(kind):
    result = evaluate(PREDICTIONS[kind](), feed(kind, stale=True), NOW)
    judged = JUDGED.get(kind, OIL)
    last = fresh(judged)[-1]
    assert result.status is Status.NO_DATA
    assert result.explanation == f"{LABELS[judged]} is stale: last point {last.ts.date()}"
    assert result.probability is None and result.model is None


@pytest.mark.parametrize("kind", ["threshold", "level", "estimate"])
def test_a_stale_series_still_shows_its_latest_value(kind):
    result = evaluate(PREDICTIONS[kind](), feed(kind, stale=True), NOW)
    last = fresh(JUDGED.get(kind, OIL))[-1]
    assert (result.value, result.value_at) == (last.value, last.ts)


@pytest.mark.parametrize("kind", ["threshold", "race", "outperform", "rank"])
def test_data_that_stop_before_a_passed_deadline_read_no_data(kind):
    """WTI crude stops on 28 February; the other series run past the deadline."""
    pred = PREDICTIONS[kind]().model_copy(update={"deadline": date(2026, 4, 30)})
    inputs = {sid: SeriesInput(sid, daily(JAN1, [60.0] * (59 if sid == OIL else 140)),
                               label=LABELS[sid]) for sid in prediction_ids(kind)}
    result = evaluate(pred, inputs, datetime(2026, 5, 10, tzinfo=UTC))
    assert result.status is Status.NO_DATA
    assert result.explanation == "deadline 2026-04-30 passed; WTI crude data stop before it"


def test_a_touch_stays_right_when_the_series_goes_stale():
    points = daily(JAN1, [60.0] * 20 + [91.0] + [70.0] * 10)
    result = evaluate(PREDICTIONS["threshold"](), feed("threshold", points, stale=True), NOW)
    assert result.status is Status.RIGHT
    assert result.explanation == "WTI crude reached $90.00: $91.00 (close) on 2026-01-21"


def test_a_race_won_stays_right_when_the_series_goes_stale():
    points = daily(JAN1, [60.0] * 20 + [44.0] + [70.0] * 10)
    result = evaluate(PREDICTIONS["race"](), feed("race", points, stale=True), NOW)
    assert result.status is Status.RIGHT
    assert result.probability == 1.0


def test_a_released_number_stays_decided_when_the_series_goes_stale():
    points = [*fresh(GDP), Point(day(date(2026, 1, 1)), 5.3)]
    result = evaluate(PREDICTIONS["level"](), feed("level", points, stale=True), NOW)
    assert result.status is Status.RIGHT


def test_a_resolved_market_stays_decided_when_its_odds_go_stale():
    pred = prediction(kind="market", series=POLY, side="yes")
    market = SeriesInput(POLY, daily(date(2026, 2, 27), [0.97]), stale=True, state="resolved",
                         resolved_value=1.0)
    result = evaluate(pred, {POLY: market}, NOW)
    assert result.status is Status.RIGHT


def test_market_odds_missing_or_stale_read_no_data():
    pred = prediction(kind="market", series=POLY, side="yes")
    empty = evaluate(pred, {POLY: SeriesInput(POLY, [])}, NOW)
    assert (empty.status, empty.explanation) == (Status.NO_DATA, f"no odds for {POLY} yet")
    stale = evaluate(pred, {POLY: SeriesInput(POLY, daily(date(2026, 2, 27), [0.4]), stale=True)},
                     NOW)
    assert stale.status is Status.NO_DATA
    assert stale.explanation == f"{POLY} odds are stale: last 2026-02-27 00:00 UTC"
    assert stale.value == 0.4


def test_a_linked_markets_stale_odds_give_no_probability_and_say_why():
    pred = prediction(kind="level", series=GDP, target=5.0, direction="above",
                      on=date(2026, 1, 1), market=POLY)
    inputs = feed("level") | {POLY: SeriesInput(POLY, daily(date(2026, 2, 27), [0.3]), stale=True)}
    result = evaluate(pred, inputs, NOW)
    assert result.probability is None
    assert result.explanation.endswith(f"; {POLY} odds are stale (last 2026-02-27 00:00 UTC)")
