"""`tracker status` as people read it (tracker/views/status.py): a line per claim at any
width, its id whole; the filters; the wide table's values in their units."""

from __future__ import annotations

import re

import pytest

from tracker.views.status import (
    Selection,
    compact_text,
    select,
    status_text,
    statuses_of,
)
from tracker.views.table import width_of

LONG_ID = "chamath-wealth-tax-on-ballot-but-fails"


def row(id_, who="David Sacks", status="on_track", p=0.62, kind="threshold",
        claim="Gold tops $5,000 an ounce before the end of the year, said with confidence",
        value=None, side=None):
    return {"id": id_, "who": who, "claim": claim, "kind": kind, "made_on": "2026-01-10",
            "deadline": "2026-12-31", "side": side, "part_of": [], "status": status,
            "probability": p, "value": value, "as_of": None, "evaluated_at": None,
            "explanation": "why"}


ROWS = [
    row(LONG_ID, who="Chamath Palihapitiya", status="off_track", p=0.17, kind="market"),
    row("sacks-gdp-5", status="wrong", p=0.0, kind="estimate"),
    row("friedberg-hunch", who="David Friedberg", status="open", p=None, kind="manual",
        claim="黄金价格上涨到五千美元，这是一个很长的说法，需要被截断"),
    row("jason-amazon-winner", who="Jason Calacanis", kind="outperform", value=-0.0452),
]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_one_line_per_claim_within_the_width_with_every_id_whole(width):
    lines = compact_text(ROWS, width=width).splitlines()
    assert len(lines) == 1 + len(ROWS) + 1  # a header, the claims, a hint
    assert all(width_of(line) <= width for line in lines)
    for line, r in zip(lines[1:], ROWS):
        assert line.split()[0] == r["id"] and r["status"] in line.split()
    assert "17%" in lines[1] and " - " in lines[3]  # no probability: a hyphen
    assert lines[1].endswith("…")  # the claim was cut to fit


def test_a_wide_terminal_shows_the_whole_claim():
    lines = compact_text(ROWS[:2], width=200).splitlines()
    assert lines[1].endswith(ROWS[0]["claim"])


def test_an_id_wider_than_the_terminal_is_still_whole():
    lines = compact_text(ROWS[:1], width=30).splitlines()
    assert lines[1].startswith(LONG_ID + "  ")


def test_colour_only_when_asked():
    plain = compact_text(ROWS, width=80)
    assert "\x1b" not in plain
    coloured = compact_text(ROWS, width=80, colour=True)
    assert "\x1b[33moff_track" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_untrusted_claims_are_made_visible_before_they_are_cut():
    evil = row("evil", claim="\x1b[2Jcleared")
    assert "\\x1b[2Jcleared" in compact_text([evil], width=80)


def test_nothing_selected_says_so():
    assert compact_text([], width=80) == "no predictions match\n"
    assert status_text([], width=80) == "no predictions match\n"


def ids(selection: Selection) -> list[str]:
    return [r["id"] for r in select(ROWS, selection)]


def test_who_is_a_name_or_one_word_of_it_in_any_case():
    assert ids(Selection(who="sacks")) == ["sacks-gdp-5"]
    assert ids(Selection(who="DAVID")) == ["sacks-gdp-5", "friedberg-hunch"]
    assert ids(Selection(who="chamath palihapitiya")) == [LONG_ID]
    with pytest.raises(ValueError, match=r"no predictions by 'sack' \(people: Chamath"):
        ids(Selection(who="sack"))


def test_status_kind_and_open_filters_combine():
    assert ids(Selection(statuses=frozenset({"wrong", "open"}))) == ["sacks-gdp-5",
                                                                     "friedberg-hunch"]
    assert ids(Selection(kinds=frozenset({"market", "manual"}), open_only=True)) == [
        LONG_ID, "friedberg-hunch"]
    assert ids(Selection(open_only=True)) == [LONG_ID, "friedberg-hunch", "jason-amazon-winner"]


def test_statuses_repeat_or_come_as_a_comma_list_and_an_unknown_one_is_named():
    assert statuses_of(["wrong,on_track", "open"]) == {"wrong", "on_track", "open"}
    with pytest.raises(ValueError, match=r"unknown status 'ontrack' \(known: right, wrong"):
        statuses_of(["wrong,ontrack"])


def test_the_wide_table_prints_an_outperform_spread_in_percentage_points():
    table = status_text(ROWS[3:], width=100)
    assert "-4.5 pp" in table and "-0.045" not in table
