"""Tables as plain text, fitted to the terminal's width: what `status`, `series` and
`scoreboard` print, from the full CLI and the lean path alike (tracker/quick/), so both
print the same bytes. Standard library only: a general layout engine (rich) took longer
to import and to lay out a few hundred rows than the query took to read them.

A cell is a string, or a list of lines, each a list of (text, style) spans. Text must be
made safe before it gets here (``tracker.textsafe.visible``): this module only measures
and places it. Styles ("bold", "red", "dim green", ...) become terminal colours only when
``colour`` is on (``wants_colour``), never otherwise.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Collection, Sequence
from typing import NamedTuple

Span = tuple[str, str]
Line = list[Span]
Cell = str | list[Line]

DEFAULT_WIDTH = 80
_SGR = {"bold": "1", "dim": "2", "italic": "3", "underline": "4", "red": "31", "green": "32",
        "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36"}


def terminal_width(stream=None) -> int:
    """$COLUMNS when set, else the terminal's width, else DEFAULT_WIDTH (a pipe)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        pass
    return DEFAULT_WIDTH


def wants_colour(stream=None) -> bool:
    """Colour on a terminal, unless $NO_COLOR; $FORCE_COLOR asks for it anywhere."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def width_of(text: str) -> int:
    """Terminal cells: wide East Asian characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    width = len(text)
    for char in [c for c in text if c > "\u02ff"]:  # below that, one cell each
        if unicodedata.combining(char):
            width -= 1
        elif unicodedata.east_asian_width(char) in "WF":
            width += 1
    return width


class Whole(NamedTuple):
    """A line of an unboxed table that spans its columns, printed as it is: a name too
    long for its column, which would otherwise be broken, goes on a line of its own."""

    text: str
    style: str = ""


class _Line(NamedTuple):
    """A line of a cell, measured once: its text, its width in cells, its spans."""

    plain: str
    width: int
    spans: Line


def _measured(spans: Line) -> _Line:
    plain = spans[0][0] if len(spans) == 1 else "".join(text for text, _ in spans)
    return _Line(plain, width_of(plain), spans)


def lines_of(cell: Cell) -> list[_Line]:
    if isinstance(cell, str):
        return [_measured([(part, "")]) for part in cell.split("\n")]
    return [_measured(spans) for spans in cell]


def _wrap(line: _Line, width: int) -> list[_Line]:
    """``line`` broken at spaces into lines of at most ``width`` cells; a longer word is
    broken where it must be. Each piece keeps its spans' styles."""
    if line.width <= width:
        return [line]
    plain, spans = line.plain, line.spans
    pieces = _breaks(plain, width)
    if len(spans) == 1:
        return [_measured([(plain[start:end], spans[0][1])]) for start, end in pieces]
    styles = [style for text, style in spans for _ in text]
    return [_measured(_spans(plain, styles, start, end)) for start, end in pieces]


def _breaks(plain: str, width: int) -> list[tuple[int, int]]:
    """Where ``plain`` breaks into lines of at most ``width`` cells: (start, end) each."""
    pieces, start, n = [], 0, len(plain)
    while start < n:
        end, used, i = start, 0, start
        while i < n:  # whole words while they fit
            j = plain.find(" ", i)
            j = n if j < 0 else j
            needed = width_of(plain[i:j]) + (1 if end > start else 0)
            if used + needed > width:
                break
            used, end, i = used + needed, j, j + 1
        if end == start:  # a word wider than the column: cut it
            while end < n and used + width_of(plain[end]) <= width:
                used += width_of(plain[end])
                end += 1
            end = max(end, start + 1)
        pieces.append((start, end))
        start = end
        while start < n and plain[start] == " ":  # no line starts with a space
            start += 1
    return pieces


def _spans(plain: str, styles: list[str], start: int, end: int) -> Line:
    spans: Line = []
    for i in range(start, end):
        if spans and spans[-1][1] == styles[i]:
            spans[-1] = (spans[-1][0] + plain[i], styles[i])
        else:
            spans.append((plain[i], styles[i]))
    return spans


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells: whole when it fits, else its start and '…'."""
    if width_of(text) <= width:
        return text
    if width < 1:
        return ""
    kept, used = [], 0
    for char in text:
        if used + width_of(char) > width - 1:
            break
        kept.append(char)
        used += width_of(char)
    return "".join(kept).rstrip() + "…"


def _fit(natural: list[int], words: list[int], room: int,
         kept: Collection[int] = ()) -> list[int]:
    """Column widths that fit ``room``: the column with the most room above its longest
    word gives up a cell at a time, so words stay whole, the ``kept`` columns last; when
    every column is down to its longest word, the widest gives way (down to a few
    cells), breaking words, the ``kept`` columns again last."""
    widths = list(natural)
    while sum(widths) > room:
        spare = [i for i in range(len(widths)) if widths[i] > words[i]]
        spare = [i for i in spare if i not in kept] or spare
        if spare:
            widths[max(spare, key=lambda i: widths[i] - words[i])] -= 1
            continue
        narrowable = [i for i in range(len(widths)) if widths[i] > 4]
        narrowable = [i for i in narrowable if i not in kept] or narrowable
        if not narrowable:
            break
        widths[max(narrowable, key=lambda i: widths[i])] -= 1
    return widths


def _longest_word(cells: list[list[_Line]]) -> int:
    """The widest word of a column; a cell that fits in a few cells has no longer one."""
    longest = 0
    for lines in cells:
        for line in lines:
            if line.width > longest and " " in line.plain:
                longest = max(longest, *(width_of(word) for word in line.plain.split()))
            elif line.width > longest:
                longest = line.width
    return longest


def styled(text: str, style: str, colour: bool) -> str:
    """``text`` in ``style`` when ``colour`` is on; as it is otherwise."""
    return _styled([(text, style)], "") if colour else text


def _styled(spans: Line, extra: str) -> str:
    out = []
    for text, style in spans:
        codes = [_SGR[word] for word in f"{extra} {style}".split() if word in _SGR]
        out.append(f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes and text else text)
    return "".join(out)


def _placed(line: _Line | None, width: int, right: bool, colour: bool, extra: str = "") -> str:
    if line is None:
        return " " * width
    gap = " " * (width - line.width) if width > line.width else ""
    shown = _styled(line.spans, extra) if colour else line.plain
    return gap + shown if right else shown + gap


def render(columns: Sequence[str], rows: Sequence[Sequence[Cell] | Whole], right: Collection[str] = (),
           no_wrap: bool = False, boxed: bool = True, header_style: str = "bold",
           width: int | None = None, colour: bool = False, keep: Collection[str] = ()) -> str:
    """The table as text, ending in a newline. ``boxed``: drawn with lines, a cell of
    padding each side; else the columns are two spaces apart. Columns in ``right`` are
    right-aligned. Unless ``no_wrap``, cells wrap to keep the table within ``width``;
    the columns in ``keep`` (names, ids) wrap only when the others cannot give enough.
    A ``Whole`` row (unboxed tables only) is a line of its own, not measured."""
    width = width or terminal_width()
    if boxed and any(isinstance(row, Whole) for row in rows):
        raise ValueError("a boxed table has no lines of their own")
    header = [lines_of(name) for name in columns]
    body = [row if isinstance(row, Whole) else [lines_of(cell) for cell in row] for row in rows]
    cells = [row for row in body if not isinstance(row, Whole)]
    by_column = [[header[i], *(r[i] for r in cells)] for i in range(len(columns))]
    natural = [max(line.width for cells in column for line in cells) for column in by_column]
    frame = 3 * len(columns) + 1 if boxed else 2 * (len(columns) - 1)
    kept = [i for i, name in enumerate(columns) if name in keep]
    widths = natural if no_wrap else _fit(natural, [_longest_word(c) for c in by_column],
                                          width - frame, kept)
    aligned = [name in right for name in columns]
    out = []
    if boxed:
        out.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    out += _row(header, widths, aligned, boxed, "┃", colour, header_style)
    if boxed:
        out.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    for row in body:
        if isinstance(row, Whole):
            out.append(styled(row.text, row.style, colour))
        else:
            out += _row(row, widths, aligned, boxed, "│", colour)
    if boxed:
        out.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return "".join(line + "\n" for line in out)


def _row(cells: list[list[_Line]], widths: list[int], right: list[bool], boxed: bool,
         bar: str, colour: bool, style: str = "") -> list[str]:
    wrapped = [[piece for line in cell for piece in _wrap(line, w)]
               for cell, w in zip(cells, widths)]
    height = max(len(cell) for cell in wrapped)
    joint = f" {bar} " if boxed else "  "
    out = []
    for n in range(height):
        placed = joint.join(_placed(cell[n] if n < len(cell) else None, w, r, colour, style)
                            for cell, w, r in zip(wrapped, widths, right))
        out.append(f"{bar} {placed} {bar}" if boxed else placed.rstrip())
    return out
