"""Untrusted text made safe to print: a market's question, a source's error, a
registry's claim or notes, a note given to ``tracker resolve`` can say anything, and a
terminal obeys what it is sent (clear the screen, set the window title, hide a link,
return to the start of the line and print over it).

The rule, for every string that came from outside: ``visible`` before it is printed,
on a terminal or in a pipe alike; and with rich, as ``Text`` (``text``), never markup.

What ``visible`` does to each character:

- newline, tab, and Unicode's line and paragraph separators become one space: a field
  stays on one line (a table row, a line of ``show``), so no line can be forged;
- any other control or invisible formatting character (C0 such as ESC, BEL, CR and
  backspace; DEL; C1 such as the 8-bit CSI 0x9b; bidirectional overrides) is shown as
  its Python escape, ``\\x1b``, ``\\r``, ``\\x9b``, ``\\u202e``: visible, so nothing is
  lost, and inert;
- everything else, spaces of every width included, is kept as it is: ordinary text
  prints unchanged. A backslash is not doubled, so ``\\x1b`` typed by someone and an ESC
  read the same; that is the price of leaving ordinary text alone.

``--json`` output keeps the raw text: JSON escapes control characters itself, and a
script wants the data as it was stored.
"""

from __future__ import annotations

import unicodedata

# Separate lines: inside a field they become a space, so the field stays one line.
_SPACES = {"\n": " ", "\t": " ", "\u2028": " ", "\u2029": " "}
# Formatting characters that join or shape ordinary text (emoji sequences, Indic and
# Arabic scripts): harmless, kept. Other format characters (bidi overrides) are shown.
_KEEP = {"\u200c", "\u200d"}


def _shown(char: str) -> str:
    if char.isprintable() or char in _KEEP or unicodedata.category(char) == "Zs":
        return char
    if char in _SPACES:
        return _SPACES[char]
    return char.encode("unicode_escape").decode("ascii")


def visible(value: object) -> str:
    """``value`` as text that prints as itself: one line, control characters escaped."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(_shown(char) for char in text)


def text(value: object, style: str = ""):
    """``value`` as a rich ``Text``: never read as markup, control characters escaped."""
    from rich.text import Text

    return Text(visible(value), style=style)
