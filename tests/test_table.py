"""The plain tables `status`, `series` and `scoreboard` print (tracker/views/table.py):
they fit the terminal, lose no word, keep their columns straight with wide characters,
and carry colour only when asked."""

from __future__ import annotations

import re

from tracker.views.table import Whole, cut, render, width_of

CLAIM = ("Brent crude closes 2026 above ninety dollars a barrel, said on a podcast in "
         "January with some confidence")
ROWS = [["Chamath", CLAIM, [[("off_track", "yellow")]], "12%"],
        ["Jason", "Gold tops 5,000", [[("right", "bold green")]], "100%"]]
COLUMNS = ("Who", "Claim", "Status", "P")


def words(text: str) -> list[str]:
    return re.sub(r"[┏┓┗┛┡┩└┘┃│━─┳╇┴]", " ", text).split()


def test_a_wide_table_wraps_to_the_terminal_and_keeps_every_word():
    shown = render(COLUMNS, ROWS, right=("P",), width=60)
    assert max(width_of(line) for line in shown.splitlines()) <= 60
    assert sorted(words(shown)) == sorted(words(render(COLUMNS, ROWS, right=("P",), width=500)))
    assert "Chamath" in shown and "off_track" in shown  # short cells are not broken


def test_wide_characters_keep_the_columns_straight():
    shown = render(("Who", "Claim"), [["李", "黄金价格"], ["Al", "gold"]], width=80)
    assert len({width_of(line) for line in shown.splitlines()}) == 1


def test_colour_only_when_asked():
    plain = render(COLUMNS, ROWS, width=100)
    assert "\x1b" not in plain
    coloured = render(COLUMNS, ROWS, width=100, colour=True)
    assert "\x1b[1;32mright\x1b[0m" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_an_unboxed_table_right_aligns_its_numbers():
    shown = render(("Who", "Open"), [["Ann", "3"], ["Bartholomew", "12"]], right=("Open",),
                   boxed=False, width=80)
    lines = shown.splitlines()
    assert [len(line) for line in lines] == [len(lines[0])] * 3
    assert lines[1].endswith(" 3") and lines[2].endswith("12")


def test_a_cut_keeps_the_start_and_marks_the_cut():
    assert cut("Gold tops 5,000 this year", 12) == "Gold tops 5…"
    assert cut("Gold", 12) == "Gold"
    assert width_of(cut("黄金价格上涨到五千", 7)) <= 7


def test_kept_columns_give_way_last():
    rows = [["Chamath Palihapitiya", "1.00/0.01 (n=1)"]]
    shown = render(("Who", "Brier"), rows, boxed=False, width=32, keep=("Who",))
    assert "Chamath Palihapitiya" in shown and "(n=1)" in shown.splitlines()[2]
    assert max(width_of(line) for line in shown.splitlines()) <= 32


def test_a_whole_line_spans_the_columns_unbroken():
    long_id = "polymarket:billionaire-one-time-wealth-tax-on-california-ballot"
    shown = render(("Series", "Last"), [Whole(long_id), ["", "22%"], ["yahoo:CL=F", "$58.10"]],
                   boxed=False, width=40)
    lines = shown.splitlines()
    assert lines[1] == long_id and lines[2].endswith("22%") and lines[3].startswith("yahoo:CL=F")
    assert max(width_of(line) for line in lines if line != long_id) <= 40
