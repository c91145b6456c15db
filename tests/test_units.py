"""Every series has a unit, and values print in it."""

from datetime import UTC, datetime

import pytest

from tracker.units import INDEX, NUMBER, PENCE, PERCENT, PROBABILITY, USD, show, unit_of


@pytest.mark.parametrize("series_id, stated, unit", [
    ("fred:DFEDTARU", None, PERCENT),
    ("fred:DCOILWTICO", None, USD),
    ("fred:CSUSHPISA", None, INDEX),
    ("polymarket:some-market", None, PROBABILITY),
    ("kalshi:KXFEDDECISION-26SEP-C25", None, PROBABILITY),
    ("yahoo:^GSPC", "USD", INDEX),
    ("yahoo:CL=F", None, USD),  # not polled yet: Yahoo's prices are dollars by default
    ("yahoo:BATS.L", "GBp", PENCE),  # pence are not dollars
    ("yahoo:SAP.DE", "EUR", "EUR"),
    ("yahoo:ODD", "not a currency", NUMBER),
    ("fred:UNKNOWN", None, NUMBER),
])
def test_each_series_has_a_unit(series_id, stated, unit):
    assert unit_of(series_id, stated) == unit


def test_values_print_in_their_unit():
    assert show(3.75, PERCENT) == "3.75%"
    assert show(58.1, USD) == "$58.10"
    assert show(6845.5, INDEX) == "6,845.5"
    assert show(0.452, PROBABILITY) == "45%"
    assert show(4250, PENCE) == "4,250.0p"
    assert show(171.3, "EUR") == "171.3 EUR"


def test_large_counts_print_whole_and_never_in_exponent_form():
    """Payrolls (thousands of jobs) read 164,600 in a table, an explanation and a chart."""
    from tracker.formats import number, short

    assert show(164_600.0, NUMBER) == "164,600"
    assert number(164_600.0) == "164,600"
    assert short(164_600.0) == "164,600" and short(1_646_000.0) == "1,646,000"
    assert short(0.00001234) == "0.00001234" and short(58.1) == "58.1"
    assert show(29_184.9, NUMBER) == "29,184.9"  # smaller figures keep their decimal


def test_an_outperform_spread_prints_in_percentage_points():
    from tracker.units import PERCENTAGE_POINTS, headline_unit

    assert headline_unit("outperform") == PERCENTAGE_POINTS
    assert headline_unit("threshold") is None
    assert show(0.0523, PERCENTAGE_POINTS) == "+5.2 pp"
    assert show(-0.147, PERCENTAGE_POINTS) == "-14.7 pp"


def test_a_manual_claims_context_prints_in_its_series_unit():
    from datetime import date

    from tests.evalhelp import daily, prediction, series
    from tracker.evaluate import evaluate

    claim = prediction(kind="manual", proxy="fred:PAYEMS", reason="the cause is not data")
    result = evaluate(claim, series("fred:PAYEMS", daily(date(2026, 1, 1), [164_600.0])),
                      datetime(2026, 2, 1, tzinfo=UTC))
    assert "fred:PAYEMS is 164,600 (2026-01-01)" in result.explanation
