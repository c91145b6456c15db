"""market and composite predictions: resolution rules, prices as probabilities, and the
Poisson-binomial combination of parts, on hand-made inputs."""

from datetime import UTC, date, datetime
from itertools import product

import pytest

from tests.evalhelp import daily, prediction
from tracker.evaluate import Evaluation, SeriesInput, Status, evaluate
from tracker.evaluate.composite import poisson_binomial

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SLUG = "polymarket:russia-x-ukraine-ceasefire-in-2026"


def market(side="yes"):
    return prediction(kind="market", series=SLUG, side=side)


def odds(price, state="open", resolved_value=None, stale=False):
    points = daily(date(2026, 2, 28), [price])
    return {SLUG: SeriesInput(SLUG, points, stale=stale, state=state, resolved_value=resolved_value)}


def test_open_market_price_is_the_probability():
    yes = evaluate(market("yes"), odds(0.14), NOW)
    no = evaluate(market("no"), odds(0.14), NOW)
    assert yes.probability == pytest.approx(0.14) and yes.status is Status.OFF_TRACK
    assert no.probability == pytest.approx(0.86) and no.status is Status.ON_TRACK


@pytest.mark.parametrize("state", ["proposed", "disputed", "closed"])
def test_unfinal_states_stay_open_whatever_the_price(state):
    result = evaluate(market("yes"), odds(0.9995, state=state), NOW)
    assert result.status is Status.ON_TRACK
    assert result.probability == pytest.approx(0.9995)
    assert "not final" in result.explanation or state in result.explanation


@pytest.mark.parametrize("won, side, status", [(1.0, "yes", Status.RIGHT), (1.0, "no", Status.WRONG),
                                               (0.0, "no", Status.RIGHT), (0.0, "yes", Status.WRONG)])
def test_resolved_market_decides(won, side, status):
    result = evaluate(market(side), odds(won, state="resolved", resolved_value=won), NOW)
    assert result.status is status


def test_void_and_scalar_settlements_are_void():
    assert evaluate(market(), odds(0.5, state="void"), NOW).status is Status.VOID
    scalar = evaluate(market(), odds(0.33, state="resolved", resolved_value=0.33), NOW)
    assert scalar.status is Status.VOID
    assert "0.33" in scalar.explanation


def test_stale_odds_read_no_data():
    assert evaluate(market(), odds(0.4, stale=True), NOW).status is Status.NO_DATA


def test_poisson_binomial_matches_enumeration():
    ps = [0.1, 0.35, 0.5, 0.8, 0.05]
    dist = poisson_binomial(ps)
    for k in range(len(ps) + 1):
        brute = 0.0
        for outcome in product([0, 1], repeat=len(ps)):
            if sum(outcome) == k:
                weight = 1.0
                for hit, p in zip(outcome, ps):
                    weight *= p if hit else 1 - p
                brute += weight
        assert dist[k] == pytest.approx(brute)
    assert sum(dist) == pytest.approx(1)


def part(status, p=None):
    return Evaluation(Status(status), "part", probability=p)


IPOS = ["spacex", "anduril", "stripe", "anthropic", "openai"]


def at_least_two():
    return prediction(kind="at_least", n=2, of=IPOS)


def test_at_least_two_of_five_is_poisson_binomial():
    ps = [0.9, 0.1, 0.12, 0.3, 0.15]
    parts = {pid: part("on_track" if p >= 0.5 else "off_track", p) for pid, p in zip(IPOS, ps)}
    result = evaluate(at_least_two(), {}, NOW, parts)
    dist = poisson_binomial(ps)
    assert result.probability == pytest.approx(1 - dist[0] - dist[1])
    assert result.model == "poisson-binomial"


def test_composite_counts_right_parts_and_resolves_early():
    parts = {"spacex": part("right", 1.0), "anduril": part("off_track", 0.1),
             "stripe": part("right", 1.0), "anthropic": part("off_track", 0.2),
             "openai": part("no_data")}
    result = evaluate(at_least_two(), {}, NOW, parts)
    assert result.status is Status.RIGHT
    assert "resolved early" in result.explanation


def test_composite_wrong_once_the_count_cannot_be_reached():
    parts = {"spacex": part("wrong", 0.0), "anduril": part("wrong", 0.0),
             "stripe": part("void"), "anthropic": part("off_track", 0.2),
             "openai": part("right", 1.0)}
    result = evaluate(prediction(kind="at_least", n=3, of=IPOS), {}, NOW, parts)
    assert result.status is Status.WRONG
    assert "resolved early" in result.explanation


def test_composite_with_one_right_needs_one_more():
    ps = {"anduril": 0.1, "stripe": 0.2, "anthropic": 0.3, "openai": 0.4}
    parts = {"spacex": part("right", 1.0), **{k: part("off_track", v) for k, v in ps.items()}}
    result = evaluate(at_least_two(), {}, NOW, parts)
    none_of_rest = (0.9 * 0.8 * 0.7 * 0.6)
    assert result.probability == pytest.approx(1 - none_of_rest)


def test_all_of_and_any_of():
    parts = {"a": part("on_track", 0.6), "b": part("off_track", 0.5)}
    both = evaluate(prediction(kind="all_of", of=["a", "b"]), {}, NOW, parts)
    either = evaluate(prediction(kind="any_of", of=["a", "b"]), {}, NOW, parts)
    assert both.probability == pytest.approx(0.3)
    assert either.probability == pytest.approx(0.8)


def test_composite_without_part_probabilities_is_no_data():
    parts = {"a": part("on_track", 0.6), "b": part("no_data")}
    result = evaluate(prediction(kind="all_of", of=["a", "b"]), {}, NOW, parts)
    assert result.status is Status.NO_DATA
    assert "b" in result.explanation


def test_any_of_with_an_unpriced_part_is_priced_at_least_by_the_others():
    """An IPO filing that no market prices, beside the listing market that does: a listing
    implies a filing, so the market's chance is a lower bound of the whole."""
    parts = {"filed": part("no_data"), "listed": part("off_track", 0.12)}
    result = evaluate(prediction(kind="any_of", of=["filed", "listed"]), {}, NOW, parts)
    assert result.probability == pytest.approx(0.12)
    assert result.model == "any-of-lower-bound"
    assert result.explanation == "at least 12% chance: listed priced, no probability yet for filed"
    none_priced = {"filed": part("no_data"), "listed": part("no_data")}
    assert evaluate(prediction(kind="any_of", of=["filed", "listed"]), {}, NOW,
                    none_priced).status is Status.NO_DATA
