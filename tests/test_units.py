"""Every series has a unit, and values print in it."""

import pytest

from tracker.units import INDEX, NUMBER, PERCENT, PROBABILITY, USD, show, unit_of


@pytest.mark.parametrize("series_id, stated, unit", [
    ("fred:DFEDTARU", None, PERCENT),
    ("fred:DCOILWTICO", None, USD),
    ("fred:CSUSHPISA", None, INDEX),
    ("polymarket:some-market", None, PROBABILITY),
    ("kalshi:KXFEDDECISION-26SEP-C25", None, PROBABILITY),
    ("yahoo:^GSPC", "USD", INDEX),
    ("yahoo:CL=F", None, USD),  # not polled yet: Yahoo's prices are dollars by default
    ("yahoo:BATS.L", "GBp", NUMBER),  # pence are not dollars
    ("fred:UNKNOWN", None, NUMBER),
])
def test_each_series_has_a_unit(series_id, stated, unit):
    assert unit_of(series_id, stated) == unit


def test_values_print_in_their_unit():
    assert show(3.75, PERCENT) == "3.75%"
    assert show(58.1, USD) == "$58.10"
    assert show(6845.5, INDEX) == "6,845.5"
    assert show(0.452, PROBABILITY) == "45%"
