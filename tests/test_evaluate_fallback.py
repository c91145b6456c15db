"""A fallback series stands in when the primary is missing or stale, and says so."""

from datetime import UTC, date, datetime

from tests.evalhelp import daily, prediction
from tracker.evaluate import SeriesInput, Status, evaluate

NOW = datetime(2026, 3, 2, tzinfo=UTC)
OIL = prediction(kind="threshold", series="yahoo:CL=F", fallback="fred:DCOILWTICO",
                 target=45, direction="below", made_on=date(2026, 1, 10))


def inputs(primary_stale=False, primary_points=True, backup_stale=False):
    futures = daily(date(2026, 2, 1), [60.0] * 28) if primary_points else []
    spot = daily(date(2026, 2, 1), [58.0] * 27 + [44.5])
    return {
        "yahoo:CL=F": SeriesInput("yahoo:CL=F", futures, stale=primary_stale, label="WTI crude"),
        "fred:DCOILWTICO": SeriesInput("fred:DCOILWTICO", spot, stale=backup_stale, label="WTI spot"),
    }


def test_a_fresh_primary_is_used_and_the_fallback_ignored():
    result = evaluate(OIL, inputs(), NOW)
    assert result.status is not Status.RIGHT  # futures never went below 45
    assert "from WTI spot" not in result.explanation


def test_a_stale_primary_gives_way_to_a_fresh_fallback_and_says_so():
    result = evaluate(OIL, inputs(primary_stale=True), NOW)
    assert result.status is Status.RIGHT  # the spot price touched 44.5
    assert result.explanation.endswith("(from WTI spot: WTI crude is stale)")
    assert result.inputs["used_series"] == "fred:DCOILWTICO"


def test_a_primary_without_data_gives_way_too():
    result = evaluate(OIL, inputs(primary_points=False), NOW)
    assert "(from WTI spot: WTI crude has no data)" in result.explanation


def test_both_stale_reads_no_data_from_the_primary():
    result = evaluate(OIL, inputs(primary_stale=True, backup_stale=True), NOW)
    assert result.status is Status.NO_DATA
    assert "WTI crude" in result.explanation and "from WTI spot" not in result.explanation
