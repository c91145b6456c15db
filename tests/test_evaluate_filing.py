"""The filing evaluator on hand-made EDGAR series: a point per filing day (the count) and
a 0 for each day EDGAR was asked and nothing was filed, as tracker/sources/edgar.py stores."""

from datetime import UTC, date, datetime

import pytest

from tests.evalhelp import day, prediction
from tracker.evaluate import SeriesInput, evaluate
from tracker.registry.loader import RegistryError
from tracker.sources.base import Point

SERIES = "edgar:1181412"
NAME = "SPACE EXPLORATION TECHNOLOGIES CORP"


def filing(**fields):
    return prediction(kind="filing", series=SERIES, start=date(2026, 1, 1), **fields)


def edgar(*points: tuple[date, float], stale=False):
    return {SERIES: SeriesInput(SERIES, [Point(day(d), v) for d, v in points], stale=stale,
                                label=NAME)}


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC)


def test_a_filing_in_the_window_is_right_and_says_when():
    inputs = edgar((date(2026, 3, 30), 1), (date(2026, 5, 20), 2), (date(2026, 11, 30), 0))
    result = evaluate(filing(), inputs, at(date(2026, 11, 30)))
    assert result.status.value == "right"
    assert result.probability == 1.0
    assert result.value == 3.0
    assert result.value_at == day(date(2026, 3, 30))
    assert "dated 2026-03-30" in result.explanation and NAME in result.explanation


def test_an_s1_filed_before_the_start_does_not_count():
    inputs = edgar((date(2025, 9, 15), 1), (date(2026, 11, 30), 0))
    result = evaluate(filing(), inputs, at(date(2026, 11, 30)))
    assert result.status.value == "off_track"
    assert result.probability is None
    assert "no registration filing on EDGAR since 2026-01-01 yet" in result.explanation


def test_a_filing_after_the_deadline_does_not_count():
    inputs = edgar((date(2027, 1, 4), 1))
    result = evaluate(filing(), inputs, at(date(2027, 1, 4)))
    assert result.status.value == "wrong"


def test_wrong_once_edgar_was_checked_after_the_deadline_and_the_grace():
    inputs = edgar((date(2025, 9, 15), 1), (date(2026, 12, 31), 0), (date(2027, 1, 3), 0))
    result = evaluate(filing(), inputs, at(date(2027, 1, 3)))
    assert result.status.value == "wrong"
    assert result.probability == 0.0
    assert "no registration filing dated 2026-01-01 to 2026-12-31" in result.explanation


def test_open_within_the_grace_even_after_the_deadline():
    inputs = edgar((date(2027, 1, 2), 0))
    result = evaluate(filing(), inputs, at(date(2027, 1, 2)))
    assert result.status.value == "off_track"


def test_no_data_when_edgar_was_not_checked_since_the_deadline():
    inputs = edgar((date(2026, 12, 20), 0))
    result = evaluate(filing(), inputs, at(date(2027, 1, 10)))
    assert result.status.value == "no_data"
    assert "not checked since the deadline" in result.explanation


def test_no_data_before_any_fetch():
    result = evaluate(filing(), edgar(), at(date(2026, 6, 1)))
    assert result.status.value == "no_data"
    assert "not fetched from EDGAR yet" in result.explanation


def test_a_stale_series_leaves_an_open_claim_without_data_but_a_filing_still_counts():
    stale_empty = edgar((date(2026, 2, 1), 0), stale=True)
    assert evaluate(filing(), stale_empty, at(date(2026, 6, 1))).status.value == "no_data"
    stale_filed = edgar((date(2026, 2, 1), 1), stale=True)
    assert evaluate(filing(), stale_filed, at(date(2026, 6, 1))).status.value == "right"


def test_a_late_public_draft_turns_a_wrong_right():
    # A draft submitted in the window shows up, dated then, when EDGAR makes it public.
    inputs = edgar((date(2026, 6, 1), 1), (date(2027, 3, 1), 0))
    assert evaluate(filing(), inputs, at(date(2027, 3, 1))).status.value == "right"


@pytest.mark.parametrize("series", ["polymarket:stripe-ipo-before-2027", "edgar:SPCX",
                                    "edgar:12345678901", "edgar:"])
def test_the_series_must_be_an_edgar_cik(series):
    with pytest.raises(RegistryError):
        prediction(kind="filing", series=series)
