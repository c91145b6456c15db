"""threshold and race on hand-made series: touched, not touched, resolved at the
deadline, stale or missing data."""

import math
from datetime import UTC, date, datetime

import pytest

from tests.evalhelp import daily, prediction, series
from tracker.evaluate import Status, evaluate, models

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
JAN1 = date(2026, 1, 1)
MADE_ON = date(2026, 1, 10)  # the made_on of evalhelp.prediction
OIL = "yahoo:CL=F"


def gold_above(**extra):
    return prediction(kind="threshold", series="yahoo:GC=F", target=5000, direction="above", **extra)


def test_threshold_touched_by_a_wick_is_right():
    points = daily(MADE_ON, [4800, 4900, 4950], highs=[4850, 5010, 4990], lows=[4700, 4850, 4900])
    result = evaluate(gold_above(), series("yahoo:GC=F", points), NOW)
    assert result.status is Status.RIGHT
    assert result.value == 5010
    assert result.inputs == {"touched_on": "2026-01-11", "used": "high"}
    assert "day's high" in result.explanation


def test_threshold_uses_the_close_when_there_is_no_high():
    points = daily(MADE_ON, [4800, 5001, 4950])
    result = evaluate(gold_above(), series("yahoo:GC=F", points), NOW)
    assert result.status is Status.RIGHT
    assert result.inputs["used"] == "close"


def test_touch_before_made_on_does_not_count():
    points = daily(JAN1, [5100] + [4800] * 40)  # 5100 on 1 Jan, made on 10 Jan
    result = evaluate(gold_above(), series("yahoo:GC=F", points), NOW)
    assert result.status in (Status.ON_TRACK, Status.OFF_TRACK)


def test_threshold_not_touched_by_the_deadline_is_wrong():
    points = daily(JAN1, [4800] * 60)
    pred = gold_above(deadline=date(2026, 2, 15))
    result = evaluate(pred, series("yahoo:GC=F", points), NOW)
    assert result.status is Status.WRONG
    assert result.probability == 0.0


def test_threshold_past_deadline_without_data_up_to_it_is_no_data():
    points = daily(JAN1, [4800] * 20)  # data stop on 20 Jan
    pred = gold_above(deadline=date(2026, 2, 15))
    assert evaluate(pred, series("yahoo:GC=F", points), NOW).status is Status.NO_DATA


def test_close_at_deadline_decides_when_touch_is_false():
    pred = gold_above(touch=False, deadline=date(2026, 2, 15))
    up = daily(JAN1, [4800] * 45 + [5050] + [4000] * 10)  # 15 Feb close 5050
    down = daily(JAN1, [5200] * 45 + [4990] + [6000] * 10)  # touched, but closed below
    assert evaluate(pred, series("yahoo:GC=F", up), NOW).status is Status.RIGHT
    assert evaluate(pred, series("yahoo:GC=F", down), NOW).status is Status.WRONG


def test_open_threshold_probability_is_the_touch_model():
    closes = [4000 * math.exp(0.01 * (-1) ** i) for i in range(59)]
    points = daily(JAN1, closes)  # last point 28 Feb
    result = evaluate(gold_above(), series("yahoo:GC=F", points), NOW)
    sigma, _ = models.realised_vol(points)
    years = ((datetime(2027, 1, 1, tzinfo=UTC) - NOW).total_seconds()) / (365.25 * 86400)
    assert result.probability == pytest.approx(models.prob_touch(closes[-1], 5000, sigma, years))
    assert result.status is (Status.ON_TRACK if result.probability >= 0.5 else Status.OFF_TRACK)
    assert result.model == "lognormal-touch"
    assert result.inputs["spot"] == closes[-1]


def test_stale_series_reads_no_data():
    points = daily(JAN1, [4800] * 30)
    result = evaluate(gold_above(), series("yahoo:GC=F", points, stale=True), NOW)
    assert result.status is Status.NO_DATA
    assert "stale" in result.explanation


def test_no_points_reads_no_data():
    assert evaluate(gold_above(), series("yahoo:GC=F", []), NOW).status is Status.NO_DATA


def test_flat_series_gives_no_probability():
    fed = prediction(kind="threshold", series="fred:DFEDTARU", target=3.0, direction="below", deadline=date(2026, 6, 30))
    result = evaluate(fed, series("fred:DFEDTARU", daily(JAN1, [3.75] * 59)), NOW)
    assert result.probability is None
    assert result.status is Status.OFF_TRACK


def oil_race(**extra):
    return prediction(kind="race", series=OIL, target=45, against=65, **extra)


def test_race_target_first_is_right():
    points = daily(
        MADE_ON, [60, 55, 50, 47, 52, 66], lows=[59, 54, 49, 44.8, 51, 60], highs=[61, 56, 51, 48, 53, 67]
    )
    result = evaluate(oil_race(), series(OIL, points), NOW)
    assert result.status is Status.RIGHT
    assert result.value == 44.8


def test_race_against_first_is_wrong():
    points = daily(MADE_ON, [60, 64, 66, 44], highs=[61, 65.2, 67, 50], lows=[59, 63, 64, 43])
    result = evaluate(oil_race(), series(OIL, points), NOW)
    assert result.status is Status.WRONG
    assert "$65.00 first" in result.explanation


def test_race_both_levels_in_one_bar_is_void():
    points = daily(MADE_ON, [55], highs=[66], lows=[44])
    result = evaluate(oil_race(), series(OIL, points), NOW)
    assert result.status is Status.VOID
    assert "no finer data" in result.explanation


def test_race_deadline_passed_with_neither_is_void():
    pred = oil_race(deadline=date(2026, 2, 20))
    points = daily(MADE_ON, [58] * 48)
    assert evaluate(pred, series(OIL, points), NOW).status is Status.VOID


def test_open_race_reports_all_three_probabilities():
    closes = [58 * math.exp(0.02 * (-1) ** i) for i in range(50)]
    points = daily(MADE_ON, closes)
    result = evaluate(oil_race(), series(OIL, points), NOW)
    p_against, p_neither = result.inputs["p_against"], result.inputs["p_neither"]
    assert result.probability + p_against + p_neither == pytest.approx(1, abs=1e-5)
    assert result.status is (Status.ON_TRACK if result.probability > p_against else Status.OFF_TRACK)
    assert "of the way from $65.00 to $45.00" in result.explanation
