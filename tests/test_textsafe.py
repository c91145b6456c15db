"""tracker/textsafe.py: untrusted text prints as itself, one line, control characters shown."""

import pytest

from tracker.textsafe import text, visible


@pytest.mark.parametrize("ordinary", [
    "Will Abiy Ahmed be the next Prime Minister of Ethiopia?",
    "GDP growth 2.1% · ends 2026-12-31 — “quoted” [not markup]",
    "café 東京 👩\u200d👩\u200d👧 non\u00a0breaking\u2009thin",
    "",
])
def test_ordinary_text_is_unchanged(ordinary):
    assert visible(ordinary) == ordinary


@pytest.mark.parametrize("hostile, shown", [
    ("\x1b[2J", "\\x1b[2J"),  # clear the screen
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # window title
    ("a\rb", "a\\rb"),  # back to the start of the line, to print over it
    ("\x9b2J", "\\x9b2J"),  # the 8-bit CSI
    ("x\x08\x7f", "x\\x08\\x7f"),
    ("\u202egnp.exe", "\\u202egnp.exe"),  # right-to-left override
    ("line\nnext\tcell\u2028", "line next cell "),  # a field stays one line
])
def test_control_characters_are_shown_not_sent(hostile, shown):
    assert visible(hostile) == shown


def test_none_and_non_strings():
    assert visible(None) == "" and visible(12) == "12"


def test_rich_text_is_never_markup():
    cell = text("[/x] [bold]x\x1b[2J", style="red")
    assert cell.plain == "[/x] [bold]x\\x1b[2J" and str(cell.style) == "red"
