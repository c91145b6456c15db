"""What ``tracker series`` shows: each stored series with its newest point, its point
count, whether it is stale, and its source's health. Plain data in, rows out, so the full
CLI and the lean path (tracker/quick/) print the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tracker.freshness import last_seen
from tracker.units import MARKET_SOURCES, unit_of

if TYPE_CHECKING:
    from db.reads import SeriesOverviewRow, SourceHealthRow


def shown_name(series_id: str, stored: str | None, labels: Mapping[str, str]) -> str | None:
    """What a series is called in the table: a market's question as its source asks it;
    for any other series the registry's name for it (``tracker.registry.labels``), else
    the name its source gives (FRED gives none)."""
    if series_id.partition(":")[0] in MARKET_SOURCES:
        return stored
    return labels.get(series_id) or stored


def series_rows(overview: Iterable[SeriesOverviewRow], health: Mapping[str, SourceHealthRow],
                stale: Mapping[str, bool], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """``overview``: every series (``db.reads.series_overview``); ``health``: source ->
    its health row (``db.reads.source_health``); ``stale``: series id -> stale or not;
    ``labels``: the registry's names of series (``tracker.registry.labels.LABELS``).
    ``name`` is the name stored from the source, ``label`` the one shown. A market's
    last value is shown as of when a poll last confirmed it."""
    rows = []
    for row in overview:
        h = health.get(row.source)
        rows.append(
            {
                "id": row.id,
                "stale": stale.get(row.id, False),
                "source": row.source,
                "symbol": row.symbol,
                "name": row.name,
                "label": shown_name(row.id, row.name, labels),
                "unit": row.unit,
                "points": row.points,
                "last_value": row.last_value,
                "last_at": last_seen(row.last_ts, row.confirmed_at),
                "source_health": {
                    "ok": h.consecutive_failures == 0,
                    "last_attempt_at": h.last_attempt_at,
                    "last_success_at": h.last_success_at,
                    "consecutive_failures": h.consecutive_failures,
                    "last_error": h.last_error,
                }
                if h
                else None,
            }
        )
    return rows



COLUMNS = ("Series", "Last", "When", "Points", "Source")


def series_text(rows: list[dict[str, Any]], health: Mapping[str, SourceHealthRow],
                colour: bool = False, width: int | None = None) -> str:
    """The series table, then a line per failing source. Each series' id, then its name
    below it; an id too long for its column has a line of its own, so ids and names are
    never cut. A source's state is a word here (the lines after the table, and `tracker
    health`, tell more). A market's name and a source's error are untrusted: made
    visible (tracker/textsafe.py) before they are placed."""
    from tracker.formats import HYPHEN, when
    from tracker.textsafe import visible
    from tracker.units import show
    from tracker.views.table import Whole, lines_of, render, terminal_width, width_of

    values = []
    for row in rows:
        h = row["source_health"]
        state = "-" if h is None else [[("ok", "green")]] if h["ok"] else [[("failing", "red")]]
        last_at = [[(when(row["last_at"]), "")] + ([(" ", ""), ("stale", "red")]
                                                   if row["stale"] else [])]
        last = (HYPHEN if row["last_value"] is None
                else show(row["last_value"], unit_of(row["id"], row["unit"])))
        values.append([last, last_at, str(row["points"]), state])
    # The room the values leave the first column, at their natural widths.
    natural = [max(line.width for cell in [name, *column] for line in lines_of(cell))
               for name, column in zip(COLUMNS[1:], zip(*values, strict=True), strict=True)
               ] if rows else []
    room = (width or terminal_width()) - sum(natural) - 2 * len(natural)
    cells: list = []
    for row, shown in zip(rows, values, strict=True):
        series_id, name = visible(row["id"]), visible(row["label"] or "")
        first = [[(series_id, "")]]
        if width_of(series_id) > room:
            cells.append(Whole(series_id))
            first = []
        cells.append([first + ([[(name, "dim")]] if name else []) or "", *shown])
    text = (render(COLUMNS, cells, right=("Last", "Points"), boxed=False,
                   header_style="bold underline", colour=colour, width=width,
                   keep=COLUMNS[1:])
            if rows else "no series stored yet: run `tracker poll`\n")
    for name, h in sorted(health.items()):
        if h.consecutive_failures:
            text += failing_source(name, h)
    return text


def failing_source(name: str, h: SourceHealthRow) -> str:
    """A failing source's line, its errors grouped by cause (tracker/errorgroups.py)."""
    from db.reads import symbol_errors
    from tracker.errorgroups import group_errors, in_one_line
    from tracker.formats import when
    from tracker.textsafe import visible

    last_ok = when(h.last_success_at) if h.last_success_at else "never"
    polls = f"{h.consecutive_failures} poll{'s' if h.consecutive_failures > 1 else ''}"
    why = in_one_line(group_errors(symbol_errors(h), h.last_error))
    return f"{name}: failing, {polls} in a row (last ok: {last_ok}): {visible(why)}\n"
