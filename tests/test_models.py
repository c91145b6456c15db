"""Probability models against closed forms and limits worked by hand."""

import math
from datetime import date

import pytest

from tests.evalhelp import daily
from tracker.evaluate import models


def test_norm_cdf_values():
    assert models.norm_cdf(0) == pytest.approx(0.5)
    assert models.norm_cdf(1.959964) == pytest.approx(0.975, abs=1e-6)
    assert models.norm_cdf(-1) == pytest.approx(0.158655, abs=1e-6)


def test_realised_vol_is_per_calendar_year():
    # Alternating +/-1% log moves, one per calendar day: variance 0.0001 per day.
    closes = [100.0]
    for i in range(60):
        closes.append(closes[-1] * math.exp(0.01 if i % 2 == 0 else -0.01))
    sigma, n = models.realised_vol(daily(date(2026, 1, 1), closes))
    assert n == 60
    assert sigma == pytest.approx(0.01 * math.sqrt(365.25))


def test_realised_vol_counts_weekend_gaps_as_time():
    points = daily(date(2026, 1, 1), [100.0, 101.0])
    from dataclasses import replace
    from datetime import timedelta

    points[1] = replace(points[1], ts=points[1].ts + timedelta(days=2))  # a 3-day gap
    sigma, _ = models.realised_vol(points)
    assert sigma == pytest.approx(abs(math.log(1.01)) / math.sqrt(3 / 365.25))


def test_end_probability_closed_form():
    # ln(S/K) = ln(1.1), sigma sqrt(T) = 0.2 -> Phi(0.4766)
    p = models.prob_end_beyond(110, 100, True, 0.2, 1.0)
    assert p == pytest.approx(models.norm_cdf(math.log(1.1) / 0.2))
    assert models.prob_end_beyond(110, 100, False, 0.2, 1.0) == pytest.approx(1 - p)
    assert models.prob_end_beyond(100, 100, True, 0.3, 0.5) == pytest.approx(0.5)


def test_touch_is_twice_the_end_probability():
    end = models.prob_end_beyond(100, 120, True, 0.25, 0.75)
    assert models.prob_touch(100, 120, 0.25, 0.75) == pytest.approx(2 * end)
    # symmetric in log distance
    assert models.prob_touch(100, 80, 0.25, 0.75) == pytest.approx(
        2 * models.norm_cdf(-math.log(100 / 80) / (0.25 * math.sqrt(0.75)))
    )
    assert models.prob_touch(100, 120, 0.0, 1.0) == 0.0


def test_race_without_deadline_is_the_gamblers_ruin():
    p_target, p_against, p_neither = models.prob_race(58.1, 45, 65, 0.3, None)
    expected = math.log(65 / 58.1) / math.log(65 / 45)
    assert p_target == pytest.approx(expected)
    assert p_against == pytest.approx(1 - expected)
    assert p_neither == pytest.approx(0)


def test_race_with_a_long_deadline_converges_to_the_gamblers_ruin():
    p_target, _, p_neither = models.prob_race(58.1, 45, 65, 0.3, 50.0)
    assert p_target == pytest.approx(math.log(65 / 58.1) / math.log(65 / 45), abs=1e-6)
    assert p_neither < 1e-6


def test_race_probabilities_sum_to_one_and_shrink_with_time():
    short = models.prob_race(58.1, 45, 65, 0.3, 0.05)
    longer = models.prob_race(58.1, 45, 65, 0.3, 0.5)
    assert sum(short) == pytest.approx(1)
    assert sum(longer) == pytest.approx(1)
    assert short[2] > longer[2]  # less time: more likely that neither is touched
    assert short[0] < longer[0]


def test_race_with_a_far_barrier_matches_the_single_barrier_touch():
    # With 'against' a hundredfold away, the race is a plain touch of the target.
    p_target, _, _ = models.prob_race(58.1, 45, 5810, 0.3, 0.4)
    assert p_target == pytest.approx(models.prob_touch(58.1, 45, 0.3, 0.4), abs=1e-6)


def test_race_target_above():
    up = models.prob_race(50, 60, 40, 0.3, None)
    assert up[0] == pytest.approx(math.log(50 / 40) / math.log(60 / 40))


def test_race_outside_the_levels_is_an_error():
    with pytest.raises(ValueError):
        models.prob_race(70, 45, 65, 0.3, 1.0)
