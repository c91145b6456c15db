"""What ``tracker scoreboard`` prints for people: a row per person (tracker/scoreboard.py
ranks them), then a key to the columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.scoreboard import PersonScore

COLUMNS = ("Who", "Expected\nhit rate", "Data\nR/W", "Hand\nR/W", "Void", "Open",
           "Unpriced", "Brier\ncall/price")
KEY = (
    "Expected hit rate: calls right plus the chances of those open, of the calls\n"
    "resolved or with a chance; ties go to the larger n. Unpriced: open calls with\n"
    "no chance (no data, or awaiting `tracker resolve`), left out of the rate. R/W:\n"
    "right/wrong, by data or by hand. Brier: the calls taken as certain, then the\n"
    "price on the day of the call (lower is better), over resolved priced calls. n:\n"
    "the calls behind a figure. --json adds edge, boldness and yield against that\n"
    "price.\n"
)


def scoreboard_text(rows: list[PersonScore], colour: bool = False,
                    width: int | None = None) -> str:
    """The table, then the key, within ``width``: a rate's n wraps below it before a
    name does. Names are untrusted: made visible (tracker/textsafe.py)."""
    from tracker.formats import brier, n_of, percent, record
    from tracker.textsafe import visible
    from tracker.views.table import render

    cells = [
        [visible(row.who), f"{percent(row.expected_hit_rate)} {n_of(row.rate_n)}",
         record(row.right_by_data, row.wrong_by_data),
         record(row.right_by_hand, row.wrong_by_hand),
         str(row.void), str(row.open), str(row.unpriced),
         f"{brier(row.brier, row.price_brier)} {n_of(len(row.briers))}"]
        for row in rows
    ]
    return render(COLUMNS, cells, right=COLUMNS[1:], boxed=False, keep=("Who",),
                  header_style="bold underline", colour=colour, width=width) + KEY
