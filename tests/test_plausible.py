"""The values a series cannot take (tracker/plausible.py), rule by rule."""

from datetime import UTC, datetime, timedelta

import pytest

from tracker.plausible import problem
from tracker.sources.base import Point

DAY = datetime(2026, 9, 1, tzinfo=UTC)


def points(*values, high=None):
    return [Point(DAY + timedelta(days=i), v, high=high) for i, v in enumerate(values)]


@pytest.mark.parametrize("series_id, stated, values, recent", [
    ("yahoo:GC=F", "USD", (3500.0, 3510.0), [3490.0]),
    ("yahoo:BATS.L", "GBp", (4100.0, 4120.0), []),
    ("yahoo:CL=F", "USD", (-37.63,), [18.3]),  # WTI, 2020-04-20
    ("fred:DCOILWTICO", None, (-36.98,), [8.9]),
    ("fred:DFEDTARU", None, (0.25, 5.5), [0.25]),  # a rate: zero and big factors are real
    ("fred:A191RL1Q225SBEA", None, (-28.0, 35.3), [2.1]),  # growth: negative, any factor
    ("edgar:0001234567", None, (0.0, 1.0), [0.0]),  # counts of filings: zero is a count
    ("polymarket:some-market", "probability", (0.0, 1.0, 0.004), [0.9]),
])
def test_values_a_series_can_take_pass(series_id, stated, values, recent):
    assert problem(series_id, stated, points(*values), recent) is None


@pytest.mark.parametrize("series_id, stated, values, recent, said", [
    ("yahoo:GC=F", "USD", (3500.0, 1e308), [], "times away"),
    ("yahoo:GC=F", "USD", (3.5,), [3500.0, 3490.0, 3510.0], "times away"),
    ("yahoo:GC=F", "USD", (0.0,), [3500.0], "zero or below"),
    ("yahoo:BATS.L", "GBp", (-4100.0,), [], "zero or below"),
    ("yahoo:^GSPC", None, (float("nan"),), [6800.0], "non-finite"),
    ("fred:CPIAUCSL", None, (330.0, 330000.0), [329.0], "times away"),
    ("fred:DFEDTARU", None, (float("inf"),), [], "non-finite"),
    ("edgar:0001234567", None, (-1.0,), [], "negative count"),
    ("kalshi:KX-1", "probability", (1.5,), [], "outside 0..1"),
])
def test_values_a_series_cannot_take_are_refused(series_id, stated, values, recent, said):
    assert said in problem(series_id, stated, points(*values), recent)


def test_a_non_finite_high_is_refused_too():
    assert "non-finite" in problem("yahoo:GC=F", "USD", points(3500.0, high=float("inf")), [])
