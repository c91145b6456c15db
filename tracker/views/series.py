"""What ``tracker series`` shows: each stored series with its newest point, its point
count, whether it is stale, and its source's health. Plain data in, rows out, so the full
CLI and the lean path (tracker/quick/) print the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tracker.freshness import last_seen

if TYPE_CHECKING:
    from db.reads import SeriesOverviewRow, SourceHealthRow


def series_rows(overview: Iterable[SeriesOverviewRow], health: Mapping[str, SourceHealthRow],
                stale: Mapping[str, bool]) -> list[dict[str, Any]]:
    """``overview``: every series (``db.reads.series_overview``); ``health``: source ->
    its health row (``db.reads.source_health``); ``stale``: series id -> stale or not.
    A market's last value is shown as of when a poll last confirmed it."""
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



def series_text(rows: list[dict[str, Any]], health: Mapping[str, SourceHealthRow],
                colour: bool = False, width: int | None = None) -> str:
    """The series table, then a line per failing source. A market's name and a source's
    error are untrusted: made visible (tracker/textsafe.py) before they are placed."""
    from tracker.formats import number, when
    from tracker.textsafe import visible
    from tracker.views.table import render

    cells = []
    for row in rows:
        h = row["source_health"]
        if h is None:
            state = "-"
        elif h["ok"]:
            state = [[("ok", "green"), (f" {when(h['last_success_at'])}", "")]]
        else:
            state = [[(f"failing x{h['consecutive_failures']}", "red")]]  # why: under the table
        last_at = [[(when(row["last_at"]), "")] + ([(" ", ""), ("stale", "red")]
                                                   if row["stale"] else [])]
        cells.append([visible(row["id"]), visible(row["name"] or ""), number(row["last_value"]),
                      last_at, str(row["points"]), state])
    text = (render(("Series", "Name", "Last", "When", "Points", "Source health"), cells,
                   right=("Last", "Points"), colour=colour, width=width)
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
