"""A fallback series covers for its primary: touches and races read the history of both;
other kinds read the fallback only while the primary is missing or stale."""

from datetime import UTC, date, datetime

from tests.evalhelp import daily, prediction
from tracker.evaluate import SeriesInput, Status, evaluate

NOW = datetime(2026, 3, 2, tzinfo=UTC)
OIL = prediction(kind="threshold", series="yahoo:CL=F", fallback="fred:DCOILWTICO",
                 target=45, direction="below", made_on=date(2026, 1, 10))
OIL_RACE = prediction(kind="race", series="yahoo:CL=F", fallback="fred:DCOILWTICO",
                      target=45, against=65, made_on=date(2026, 1, 10))
DOLLAR = prediction(kind="rank", series="yahoo:DX-Y.NYB", fallback="fred:DTWEXBGS",
                    universe=["yahoo:^GSPC"], position="worst", start=date(2026, 2, 1),
                    made_on=date(2026, 2, 1))


def inputs(primary_stale=False, primary_points=True, backup_stale=False, spot_low=44.5):
    futures = daily(date(2026, 2, 1), [60.0] * 28) if primary_points else []
    spot = daily(date(2026, 2, 1), [58.0] * 27 + [spot_low])
    return {
        "yahoo:CL=F": SeriesInput("yahoo:CL=F", futures, stale=primary_stale, label="WTI crude"),
        "fred:DCOILWTICO": SeriesInput("fred:DCOILWTICO", spot, stale=backup_stale, label="WTI spot"),
    }


def test_a_touch_in_the_fallbacks_history_counts_even_beside_a_fresh_primary():
    result = evaluate(OIL, inputs(), NOW)
    assert result.status is Status.RIGHT  # the spot price touched 44.5; futures did not
    assert result.inputs["touched_on"] == "2026-02-28"
    assert "(with WTI spot as well as WTI crude)" in result.explanation


def test_no_touch_in_either_series_keeps_the_claim_open_on_the_primary():
    result = evaluate(OIL, inputs(spot_low=50.0), NOW)
    assert result.status in (Status.ON_TRACK, Status.OFF_TRACK)
    assert result.inputs["spot"] == 60.0  # the futures close, not the spot


def test_a_primary_without_data_reads_the_fallback():
    result = evaluate(OIL, inputs(primary_points=False), NOW)
    assert result.status is Status.RIGHT
    assert "WTI spot" in result.explanation


def test_both_stale_and_unsettled_reads_no_data():
    result = evaluate(OIL, inputs(primary_stale=True, backup_stale=True, spot_low=50.0), NOW)
    assert result.status is Status.NO_DATA
    assert "stale" in result.explanation


def test_a_race_settled_by_the_fallbacks_history_stays_settled_when_both_are_stale():
    """The primary is down (no data at all) and the fallback's newest point is weeks old:
    the $65 close it holds still decides the race."""
    spot = daily(date(2026, 2, 10), [62.0, 63.5, 64.9, 65.33, 63.0])
    weeks_later = datetime(2026, 11, 30, tzinfo=UTC)
    result = evaluate(OIL_RACE, {
        "yahoo:CL=F": SeriesInput("yahoo:CL=F", [], stale=True, label="WTI crude"),
        "fred:DCOILWTICO": SeriesInput("fred:DCOILWTICO", spot, stale=True, label="WTI spot"),
    }, weeks_later)
    assert result.status is Status.WRONG
    assert result.inputs["touched_on"] == "2026-02-13"
    assert result.probability == 0.0


def test_a_bar_of_the_primary_is_widened_by_the_fallbacks_close_that_day():
    futures = daily(date(2026, 2, 1), [64.0] * 5, highs=[64.5] * 5, lows=[63.5] * 5)
    spot = daily(date(2026, 2, 3), [65.2])
    result = evaluate(OIL_RACE, {
        "yahoo:CL=F": SeriesInput("yahoo:CL=F", futures, label="WTI crude"),
        "fred:DCOILWTICO": SeriesInput("fred:DCOILWTICO", spot, label="WTI spot"),
    }, NOW)
    assert result.status is Status.WRONG
    assert result.inputs["touched_on"] == "2026-02-03"


def _returns_inputs(dollar_stale):
    index = daily(date(2026, 1, 25), [100.0 + i for i in range(30)])
    return {
        "yahoo:DX-Y.NYB": SeriesInput("yahoo:DX-Y.NYB", daily(date(2026, 1, 25), [98.0] * 30),
                                      stale=dollar_stale, label="Dollar index"),
        "fred:DTWEXBGS": SeriesInput("fred:DTWEXBGS", daily(date(2026, 1, 25), [120.0] * 30),
                                     label="Broad dollar"),
        "yahoo:^GSPC": SeriesInput("yahoo:^GSPC", index, label="S&P 500"),
    }


def test_returns_read_the_fallback_only_while_the_primary_is_stale():
    fresh = evaluate(DOLLAR, _returns_inputs(dollar_stale=False), NOW)
    assert "Broad dollar" not in fresh.explanation
    stale = evaluate(DOLLAR, _returns_inputs(dollar_stale=True), NOW)
    assert stale.explanation.endswith("(from Broad dollar: Dollar index is stale)")
    assert stale.inputs["used_series"] == "fred:DTWEXBGS"
