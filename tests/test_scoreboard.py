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


def test_people_rank_by_expected_hits():
    latest = {"a1": ("wrong", 0.0), "b1": ("right", 1.0), "b2": ("on_track", 0.9)}
    rows = score(PREDICTIONS, latest, {})
    assert [r.who for r in rows] == ["Bob", "Ann"]
    assert rows[0].as_dict()["expected_hits"] == pytest.approx(1.9)
