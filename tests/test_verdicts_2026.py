"""The bundled registry's claims on the real 2026 record (recorded FRED files): verdicts
that hold whatever happens to the freshness of their inputs afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tests.replay import FIXTURES
from tracker.config import settings_from_dict
from tracker.evaluate import SeriesInput, Status
from tracker.registry.loader import load_registry
from tracker.service.evaluation import evaluate_registry
from tracker.sources.fred import parse_csv
from tracker.units import PERCENT, USD

REGISTRY = load_registry(settings_from_dict({}))


def recorded(name: str, symbol: str):
    return parse_csv((FIXTURES / "fred" / name).read_text(), symbol).points


WTI = recorded("DCOILWTICO_daily_2025-12_2026-09.csv", "DCOILWTICO")  # to 2026-09-15
FED = recorded("DFEDTARU_daily_2025-07_2026-10.csv", "DFEDTARU")  # to 2026-10-04


def evaluate_one(prediction_id: str, inputs: dict[str, SeriesInput], now: datetime):
    prediction = REGISTRY.get(prediction_id)
    return evaluate_registry([prediction], inputs, now)[prediction_id]


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59), UTC)


def test_oil_race_settled_by_the_spot_history_stays_wrong_with_futures_down():
    """Yahoo unreachable all year, the weekly spot file last updated in September: the
    65.33 close of 2026-02-18 settled the race, and at the end of November it still has."""
    inputs = {
        "yahoo:CL=F": SeriesInput("yahoo:CL=F", [], stale=True, label="WTI crude", unit=USD),
        "fred:DCOILWTICO": SeriesInput("fred:DCOILWTICO", WTI, stale=True, label="WTI spot",
                                       unit=USD),
    }
    result = evaluate_one("chamath-oil-45-before-65", inputs, datetime(2026, 11, 30, tzinfo=UTC))
    assert result.status is Status.WRONG
    assert result.inputs["touched_on"] == "2026-02-18"
    assert "reached $65.00 first: $65.33" in result.explanation


def test_fed_cut_claim_has_a_probability_on_every_day_of_its_window():
    """From the call to the deadline, whatever the rate did, the claim is priced; the
    rate stayed at 3.75% to June, so the claim ends wrong."""
    prediction = REGISTRY.get("sacks-fed-cuts-75bp-by-june")
    day = prediction.made_on
    seen = []
    while day <= prediction.deadline:
        now = end_of(day)
        points = [p for p in FED if p.ts <= now]
        inputs = {"fred:DFEDTARU": SeriesInput("fred:DFEDTARU", points, label="Fed funds target",
                                               unit=PERCENT)}
        result = evaluate_one(prediction.id, inputs, now)
        assert result.probability is not None, f"no probability on {day}: {result.explanation}"
        assert result.model == "meeting-steps"
        seen.append(result.probability)
        day += timedelta(days=1)
    # Three cuts in four meetings at 2025's pace (3 cuts in 8 meetings): about 15%.
    assert 0.1 < seen[0] < 0.2
    # Each meeting that passes without a cut makes it less likely; by April, impossible.
    assert seen == sorted(seen, reverse=True)
    assert seen[-1] == 0.0
    after = evaluate_one(prediction.id, {"fred:DFEDTARU": SeriesInput(
        "fred:DFEDTARU", [p for p in FED if p.ts <= end_of(date(2026, 7, 3))], unit=PERCENT)},
        end_of(date(2026, 7, 3)))
    assert after.status is Status.WRONG


def test_the_fed_cut_line_prints_rates_as_percentages():
    now = end_of(date(2026, 1, 10))
    inputs = {"fred:DFEDTARU": SeriesInput("fred:DFEDTARU", [p for p in FED if p.ts <= now],
                                           label="Fed funds target", unit=PERCENT)}
    line = evaluate_one("sacks-fed-cuts-75bp-by-june", inputs, now).explanation
    assert "Fed funds target 3.75%: needs 3 cuts of 25 bp to reach 3.0%" in line
    assert "$" not in line
