"""level and estimate on hand-made macro series: the number released for ``on`` decides;
before that a nowcast from the latest release (or a linked market's odds) gives the status."""

from datetime import UTC, date, datetime

import pytest

from tests.evalhelp import daily, day, prediction, series
from tracker.evaluate import SeriesInput, Status, evaluate
from tracker.evaluate.released import number, period
from tracker.sources.base import Point

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
GDP = "fred:A191RL1A225NBEA"  # annual, the 2026 value dated 2026-01-01
CPI = "fred:CPI_ANNUAL"
FED = "fred:DFEDTARU"
ON = date(2026, 1, 1)
POLY = "polymarket:us-gdp-growth-above-5-in-2026"
KALSHI = "kalshi:GDPYEAR-26"


def annual(first_year, values) -> list[Point]:
    return [Point(day(date(first_year + i, 1, 1)), v) for i, v in enumerate(values)]


def quarterly(first: date, values) -> list[Point]:
    dates = [date(first.year + (first.month - 1 + 3 * i) // 12, (first.month - 1 + 3 * i) % 12 + 1, 1)
             for i in range(len(values))]
    return [Point(day(d), v) for d, v in zip(dates, values, strict=True)]


def gdp_level(**extra):
    fields = {"kind": "level", "series": GDP, "target": 5.0, "direction": "above", "on": ON}
    return prediction(**{**fields, **extra})


def odds(slug, price, state="open", resolved_value=None, stale=False):
    points = daily(date(2026, 7, 30), [price]) if price is not None else []
    return {slug: SeriesInput(slug, points, stale=stale, state=state, resolved_value=resolved_value)}


# level: released


def test_level_released_beyond_target_is_right():
    result = evaluate(gdp_level(), series(GDP, annual(2023, [2.9, 2.8, 2.6, 5.3])), NOW)
    assert result.status is Status.RIGHT
    assert result.probability == 1.0
    assert result.value == 5.3 and result.value_at == day(ON)
    assert "released 5.3% for 2026 (needed >= 5.0)" in result.explanation


def test_level_released_short_of_target_is_wrong():
    result = evaluate(gdp_level(), series(GDP, annual(2023, [2.9, 2.8, 2.6, 4.6])), NOW)
    assert result.status is Status.WRONG
    assert result.probability == 0.0
    assert "released 4.6% for 2026" in result.explanation


def test_level_target_itself_counts_for_below():
    fed = prediction(kind="level", series=FED, target=3.0, direction="below", on=date(2026, 12, 31))
    at = daily(date(2026, 12, 1), [3.25] * 30 + [3.0])
    above = daily(date(2026, 12, 1), [3.0] * 30 + [3.25])
    later = datetime(2027, 1, 2, tzinfo=UTC)
    assert evaluate(fed, series(FED, at), later).status is Status.RIGHT
    result = evaluate(fed, series(FED, above), later)
    assert result.status is Status.WRONG
    assert "released 3.25% for 2026-12-31 (needed <= 3.0)" in result.explanation


def test_level_reads_only_the_value_dated_on():
    # 2027 is far above target but is not the year the prediction is about
    result = evaluate(gdp_level(), series(GDP, annual(2025, [2.6, 4.9, 7.0])), NOW)
    assert result.status is Status.WRONG
    assert result.value == 4.9


# level: not released yet


def test_level_nowcast_on_track_when_latest_is_beyond():
    result = evaluate(gdp_level(), series(GDP, annual(2023, [2.9, 2.8, 5.2])), NOW)
    assert result.status is Status.ON_TRACK
    assert result.probability is None and result.model is None
    assert result.explanation == f"{GDP}: 2026 not released yet; latest 5.2% for 2025 (needs >= 5.0)"
    assert result.value == 5.2
    assert result.inputs["latest"] == 5.2 and result.inputs["latest_on"] == "2025-01-01"


def test_level_nowcast_off_track_when_latest_falls_short():
    points = quarterly(date(2025, 10, 1), [2.1, 3.9, 4.0, 4.3])  # through 2026Q3
    pred = gdp_level(series="fred:GDPQ", on=date(2026, 10, 1))
    result = evaluate(pred, series("fred:GDPQ", points), NOW)
    assert result.status is Status.OFF_TRACK
    assert "2026Q4 not released yet; latest 4.3 for 2026Q3 (needs >= 5.0)" in result.explanation


def test_level_without_points_is_no_data_naming_the_series():
    result = evaluate(gdp_level(), series(GDP, []), NOW)
    assert result.status is Status.NO_DATA
    assert GDP in result.explanation


def test_level_on_a_stale_series_is_no_data():
    result = evaluate(gdp_level(), series(GDP, annual(2023, [2.9, 2.8, 5.2]), stale=True), NOW)
    assert result.status is Status.NO_DATA
    assert GDP in result.explanation and "stale" in result.explanation


def test_level_whose_date_the_series_skipped_is_no_data():
    # a business-day series has no value for a Saturday, and never will
    pred = prediction(kind="level", series="fred:DGS10", target=4.0, direction="below",
                      on=date(2026, 7, 4))
    points = [Point(day(date(2026, 7, d)), 4.1) for d in (2, 3, 6, 7)]
    result = evaluate(pred, series("fred:DGS10", points), NOW)
    assert result.status is Status.NO_DATA
    assert "no value dated 2026-07-04" in result.explanation


# level with a linked market


def test_level_market_price_gives_probability_and_status():
    inputs = series(GDP, annual(2023, [2.9, 2.8, 5.2])) | odds(POLY, 0.3)
    result = evaluate(gdp_level(market=POLY), inputs, NOW)
    # the nowcast (5.2 >= 5.0) alone would be on track; the market says 30%
    assert result.probability == pytest.approx(0.3)
    assert result.status is Status.OFF_TRACK
    assert result.model == "market:polymarket"
    assert "latest 5.2% for 2025" in result.explanation and "gives yes 30%" in result.explanation


def test_level_market_no_side_is_one_minus_the_price():
    inputs = series(GDP, annual(2023, [2.9, 2.8, 2.6])) | odds(KALSHI, 0.3)
    result = evaluate(gdp_level(market=KALSHI, market_side="no"), inputs, NOW)
    assert result.probability == pytest.approx(0.7)
    assert result.status is Status.ON_TRACK
    assert result.model == "market:kalshi"
    assert "gives no 70%" in result.explanation


def test_level_market_prices_stand_when_the_series_has_no_data():
    result = evaluate(gdp_level(market=POLY), series(GDP, []) | odds(POLY, 0.62), NOW)
    assert result.status is Status.ON_TRACK
    assert result.probability == pytest.approx(0.62)
    assert f"no data for {GDP}" in result.explanation


@pytest.mark.parametrize("side, p", [("yes", 1.0), ("no", 0.0)])
def test_resolved_market_gives_certainty_but_the_level_stays_open(side, p):
    inputs = series(GDP, annual(2023, [2.9, 2.8, 2.6])) | odds(POLY, 0.999, "resolved", 1.0)
    result = evaluate(gdp_level(market=POLY, market_side=side), inputs, NOW)
    assert result.probability == p
    assert result.status is (Status.ON_TRACK if p else Status.OFF_TRACK)
    assert "resolved yes" in result.explanation and "released number still decides" in result.explanation


def test_released_number_overrules_a_resolved_market():
    inputs = series(GDP, annual(2023, [2.9, 2.8, 2.6, 4.6])) | odds(POLY, 0.999, "resolved", 1.0)
    result = evaluate(gdp_level(market=POLY), inputs, NOW)
    assert result.status is Status.WRONG
    assert result.probability == 0.0


def test_stale_market_odds_are_not_used():
    inputs = series(GDP, annual(2023, [2.9, 2.8, 5.2])) | odds(POLY, 0.2, stale=True)
    result = evaluate(gdp_level(market=POLY), inputs, NOW)
    assert result.probability is None
    assert result.status is Status.ON_TRACK  # the nowcast decides
    assert "stale" in result.explanation


def test_market_without_prices_leaves_the_nowcast():
    inputs = series(GDP, annual(2023, [2.9, 2.8, 2.6])) | odds(POLY, None)
    result = evaluate(gdp_level(market=POLY), inputs, NOW)
    assert result.probability is None
    assert result.status is Status.OFF_TRACK


# estimate


def gdp_estimate(**extra):
    return prediction(kind="estimate", series=GDP, on=ON, **{"value": 5.0, "tolerance": 0.25, **extra})


def cpi_range(low=2.5, high=3.0):
    return prediction(kind="estimate", series=CPI, on=ON, range=[low, high])


def test_estimate_within_tolerance_is_right_and_reports_its_error():
    result = evaluate(gdp_estimate(), series(GDP, annual(2024, [2.8, 2.6, 5.1])), NOW)
    assert result.status is Status.RIGHT
    assert result.probability is None
    assert "released 5.1% for 2026 vs estimate 5.0: off by +0.1 (tolerance 0.25)" in result.explanation
    assert result.inputs["error"] == pytest.approx(0.1)


def test_estimate_outside_tolerance_is_wrong():
    result = evaluate(gdp_estimate(), series(GDP, annual(2024, [2.8, 2.6, 4.6])), NOW)
    assert result.status is Status.WRONG
    assert result.probability is None
    assert result.value == 4.6 and result.value_at == day(ON)
    assert result.explanation.endswith(
        "released 4.6% for 2026 vs estimate 5.0: off by -0.4 (tolerance 0.25)"
    )


@pytest.mark.parametrize("released, status", [(2.1, Status.RIGHT), (2.7, Status.RIGHT),
                                              (2.099, Status.WRONG), (2.701, Status.WRONG)])
def test_estimate_tolerance_edges_are_inclusive(released, status):
    # 2.4 + 0.3 is 2.6999999999999997 in floating point: 2.7 must still count
    pred = gdp_estimate(value=2.4, tolerance=0.3)
    assert evaluate(pred, series(GDP, annual(2025, [2.4, released])), NOW).status is status


def test_estimate_inside_range_is_right():
    result = evaluate(cpi_range(), series(CPI, annual(2025, [3.1, 2.7])), NOW)
    assert result.status is Status.RIGHT
    assert result.probability is None
    assert "released 2.7 for 2026, inside 2.5-3.0" in result.explanation


@pytest.mark.parametrize("released", [2.5, 3.0])
def test_estimate_range_ends_are_inclusive(released):
    result = evaluate(cpi_range(), series(CPI, annual(2025, [3.1, released])), NOW)
    assert result.status is Status.RIGHT


@pytest.mark.parametrize("released, text", [(3.4, "0.4 above the range 2.5-3.0"),
                                            (2.1, "0.4 below the range 2.5-3.0")])
def test_estimate_outside_range_says_by_how_much(released, text):
    result = evaluate(cpi_range(), series(CPI, annual(2025, [3.1, released])), NOW)
    assert result.status is Status.WRONG
    assert f"released {number(released)} for 2026, {text}" in result.explanation
    assert abs(result.inputs["error"]) == pytest.approx(0.4)


def test_estimate_nowcast_on_and_off_track():
    inside = evaluate(cpi_range(), series(CPI, annual(2024, [3.4, 2.9])), NOW)
    assert inside.status is Status.ON_TRACK
    assert inside.probability is None
    assert "2026 not released yet; latest 2.9 for 2025 (needs 2.5-3.0)" in inside.explanation
    outside = evaluate(gdp_estimate(), series(GDP, annual(2024, [2.8, 2.6])), NOW)
    assert outside.status is Status.OFF_TRACK
    assert "latest 2.6% for 2025 (needs 5.0 ± 0.25)" in outside.explanation


def test_estimate_without_data_or_stale_is_no_data():
    empty = evaluate(cpi_range(), series(CPI, []), NOW)
    stale = evaluate(cpi_range(), series(CPI, annual(2024, [3.4, 2.9]), stale=True), NOW)
    assert empty.status is Status.NO_DATA and CPI in empty.explanation
    assert stale.status is Status.NO_DATA and "stale" in stale.explanation


def test_a_stale_series_still_resolves_from_its_released_value():
    result = evaluate(cpi_range(), series(CPI, annual(2025, [3.1, 2.7]), stale=True), NOW)
    assert result.status is Status.RIGHT


# formatting


@pytest.mark.parametrize("x, text", [(4.6, "4.6"), (2.75, "2.75"), (312.4, "312.4"), (5, "5.0"),
                                     (-0.40000000000000036, "-0.4"), (0.1234, "0.123"),
                                     (29184.9, "29,184.9"), (-0.0001, "0.0")])
def test_number_format(x, text):
    assert number(x) == text


def test_period_names_follow_the_series_frequency():
    assert period(date(2026, 1, 1), annual(2020, [1, 2])) == "2026"
    assert period(date(2026, 7, 1), quarterly(date(2025, 1, 1), [1, 2, 3])) == "2026Q3"
    monthly = [Point(day(date(2026, m, 1)), 1.0) for m in (1, 2, 3)]
    assert period(date(2026, 3, 1), monthly) == "2026-03"
    assert period(date(2026, 3, 5), daily(date(2026, 3, 1), [1, 2, 3])) == "2026-03-05"
