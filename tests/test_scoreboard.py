"""The scoreboard's arithmetic, on hand-made evaluations and made-on prices."""

import pytest

from tests.evalhelp import prediction
from tracker.scoreboard import score


def claim(pid, who, scored=True):
    return prediction(id=pid, who=who, kind="manual", scored=scored)


PREDICTIONS = [
    claim("a1", "Ann"), claim("a2", "Ann"), claim("a3", "Ann"), claim("a4", "Ann"),
    claim("a-part", "Ann", scored=False),
    claim("b1", "Bob"), claim("b2", "Bob"),
]


def test_counts_expected_hits_and_edges_per_person():
    latest = {
        "a1": ("right", 1.0), "a2": ("wrong", 0.0), "a3": ("on_track", 0.7), "a4": ("void", None),
        "a-part": ("right", 1.0),  # not scored: must not count
        "b1": ("off_track", 0.2), "b2": ("no_data", None),
    }
    priced = {"a1": 0.25, "a2": 0.6, "a3": 0.5, "b1": 0.005}
    ann, bob = score(PREDICTIONS, latest, priced)

    assert (ann.who, ann.right, ann.wrong, ann.void, ann.open) == ("Ann", 1, 1, 1, 1)
    assert ann.expected_hits == pytest.approx(1.7)  # one hit plus 0.7 still open
    assert ann.hit_rate == 0.5 and ann.resolved == 2
    # Edge: outcome minus the made-on price, over resolved priced calls: (1-.25) + (0-.6).
    assert ann.edge == pytest.approx(((1 - 0.25) + (0 - 0.6)) / 2)
    # Yield of betting 1 at q: 1/q - 1 when right (3.0), -1 when wrong.
    assert ann.mean_yield == pytest.approx((3.0 - 1.0) / 2)
    assert ann.mean_boldness == pytest.approx(((1 - 0.25) + (1 - 0.6) + (1 - 0.5)) / 3)

    assert (bob.right, bob.wrong, bob.open) == (0, 0, 2)
    assert bob.expected_hits == pytest.approx(0.2)  # no_data adds nothing
    assert bob.mean_boldness == pytest.approx(1 - 0.01)  # 0.005 clipped to 0.01
    assert bob.edge is None and bob.hit_rate is None


def test_the_expected_hits_sum_is_still_reported():
    latest = {"a1": ("wrong", 0.0), "b1": ("right", 1.0), "b2": ("on_track", 0.9)}
    rows = score(PREDICTIONS, latest, {})
    assert [r.who for r in rows] == ["Bob", "Ann"]
    assert rows[0].as_dict()["expected_hits"] == pytest.approx(1.9)


def test_people_rank_by_expected_hit_rate_not_by_how_many_claims_they_made():
    # Bob made two calls and got both right; Ann made four more and got half of hers.
    # Ann's sum of hits is the larger, but her rate is not: Bob ranks first.
    many = [claim(f"a{i}", "Ann") for i in range(1, 7)] + [claim("b1", "Bob"), claim("b2", "Bob")]
    latest = {"a1": ("right", 1.0), "a2": ("right", 1.0), "a3": ("right", 1.0),
              "a4": ("wrong", 0.0), "a5": ("wrong", 0.0), "a6": ("wrong", 0.0),
              "b1": ("right", 1.0), "b2": ("right", 1.0)}
    bob, ann = score(many, latest, {})
    assert (bob.who, bob.expected_hit_rate, bob.rate_n) == ("Bob", 1.0, 2)
    assert (ann.who, ann.expected_hit_rate, ann.rate_n) == ("Ann", 0.5, 6)
    assert ann.expected_hits > bob.expected_hits
    assert bob.as_dict()["expected_hit_rate"] == 1.0 and bob.as_dict()["expected_hit_rate_n"] == 2


def test_equal_rates_rank_the_larger_n_first_then_by_name():
    calls = [claim("a1", "Ann"), claim("b1", "Bob"), claim("b2", "Bob"), claim("c1", "Cy")]
    latest = {"a1": ("right", 1.0), "b1": ("right", 1.0), "b2": ("on_track", 1.0),
              "c1": ("right", 1.0)}
    assert [r.who for r in score(calls, latest, {})] == ["Bob", "Ann", "Cy"]


def test_unpriced_claims_do_not_lower_the_rate_and_are_counted_apart():
    # no_data and an open manual claim carry no chance: they are not expected misses.
    latest = {"a1": ("right", 1.0), "a2": ("on_track", 0.6), "a3": ("no_data", None),
              "a4": ("open", None), "b1": ("right", 1.0), "b2": ("off_track", 0.2)}
    ann, bob = score(PREDICTIONS, latest, {})
    assert ann.expected_hit_rate == pytest.approx((1 + 0.6) / 2)
    assert (ann.rate_n, ann.open, ann.unpriced, ann.claims) == (2, 3, 2, 4)
    assert bob.expected_hit_rate == pytest.approx((1 + 0.2) / 2)
    assert ann.as_dict()["unpriced"] == 2


def test_someone_with_only_unpriced_claims_has_no_rate_and_ranks_last():
    latest = {"a1": ("open", None), "b1": ("off_track", 0.1)}
    bob, ann = score(PREDICTIONS, latest, {})
    assert (bob.who, ann.who) == ("Bob", "Ann")
    assert ann.expected_hit_rate is None and ann.rate_n == 0 and ann.unpriced == 4


def test_verdicts_by_hand_are_counted_apart_from_verdicts_by_data():
    latest = {"a1": ("right", 1.0, "manual"), "a2": ("wrong", 0.0, "manual"),
              "a3": ("right", 1.0, "market:polymarket"), "a4": ("wrong", 0.0, None),
              "b1": ("right", 1.0, None)}
    ann = next(r for r in score(PREDICTIONS, latest, {}) if r.who == "Ann")
    assert (ann.right, ann.wrong) == (2, 2)
    assert (ann.right_by_data, ann.wrong_by_data) == (1, 1)
    assert (ann.right_by_hand, ann.wrong_by_hand) == (1, 1)
    row = ann.as_dict()
    assert (row["right_by_data"], row["wrong_by_data"]) == (1, 1)
    assert (row["right_by_hand"], row["wrong_by_hand"]) == (1, 1)


def test_brier_scores_of_the_calls_and_of_the_price_on_the_day_of_the_call():
    latest = {"a1": ("right", 1.0), "a2": ("wrong", 0.0), "a3": ("on_track", 0.7)}
    ann = score(PREDICTIONS, latest, {"a1": 0.25, "a2": 0.6, "a3": 0.5})[0]
    # Over the two resolved priced calls: the calls as certain score 0 and 1; the price
    # scores (0.25 - 1)^2 and (0.6 - 0)^2.
    assert ann.brier == pytest.approx(0.5)
    assert ann.price_brier == pytest.approx(((0.25 - 1) ** 2 + 0.6 ** 2) / 2)
    assert ann.as_dict()["brier_n"] == 2
