"""The lean answer of each read command: its cache entry (cache.py) and the database,
read through sqlite3 with the full CLI's SQL (db/reads.py), printed through the full
CLI's views (tracker/views), so both print the same bytes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from db import reads
from tracker.configfile import find_config
from tracker.jsonout import dumps
from tracker.quick import COMMANDS, Answer, CommandLine, cache

if TYPE_CHECKING:
    from db.reads import Run


class Declined(Exception):
    """The lean path cannot answer this one: the full CLI will."""


def answer(line: CommandLine) -> Answer | None:
    """``line``'s answer, or None whenever the full CLI must give it: whatever goes wrong
    here, the full CLI answers (with its own error message when there is one)."""
    try:
        config_path, _required = find_config(line.config)
        entry = cache.load(COMMANDS[line.command], config_path)
        if entry is None:
            return None
        if line.command == "check":
            return Answer(entry["stdout"], entry["stderr"], entry["code"])
        connection = cache.open_database(Path(entry["database"]))
        if connection is None:
            return None
        try:
            if line.command == "digest":
                return _digest(_runner(connection), entry, line)
            found = READS[line.command](_runner(connection), entry, line)
        finally:
            connection.close()
        code = 1 if line.command == "health" and not found["ok"] else 0
        if line.as_json:
            return Answer(dumps(found) + "\n", code=code)
        return Answer(TEXT[line.command](found, entry), code=code)
    except Exception:  # noqa: BLE001 (Declined, a stale or odd cache, a database error)
        return None


def _runner(connection: sqlite3.Connection) -> Run:
    """How db/reads.py's reads run on the connection: timestamps as SQLite stores them."""
    return lambda sql, params: connection.execute(sql, reads.sqlite_params(params))


def _terminal() -> dict[str, Any]:
    from tracker.views.table import terminal_width, wants_colour

    return {"width": terminal_width(), "colour": wants_colour()}


# ---- status ----------------------------------------------------------------------------

def _status(run: Run, entry: dict, line: CommandLine) -> list[dict]:
    """Declined for a kind no cached prediction has: the full CLI knows every kind, and
    says so when it is not one."""
    from tracker.views.status import Selection, listed, select, status_rows, statuses_of

    asked = {name: [value for n, value in line.options if n == name]
             for name in ("--who", "--status", "--kind")}
    kinds = listed(asked["--kind"])
    if kinds - {prediction["kind"] for prediction in entry["predictions"]}:
        raise Declined("a kind the full CLI checks")
    selection = Selection(next(iter(asked["--who"]), None), statuses_of(asked["--status"]),
                          kinds, ("--open", None) in line.options)
    entry["wide"] = ("--wide", None) in line.options
    return select(status_rows(entry["predictions"], reads.latest_snapshots(run)), selection)


def _status_text(rows: list[dict], entry: dict) -> str:
    from tracker.views.status import compact_text, status_text

    return (status_text if entry["wide"] else compact_text)(rows, **_terminal())


# ---- series and health -------------------------------------------------------------------

def _stale(run: Run, entry: dict, series_ids: list[str], health: dict) -> dict[str, bool]:
    """Which series are stale, as ``tracker.service.freshness.staleness`` judges them."""
    from tracker.freshness import RECENT, stale_series
    from tracker.sources import group_of

    intervals = entry["intervals"]
    newest = reads.newest_points(run, series_ids, RECENT, per_statement=1)  # see newest_points
    return stale_series(newest, datetime.now(UTC), health,
                        lambda source: timedelta(seconds=intervals[group_of(source)]),
                        reads.confirmations(run))


def _series(run: Run, entry: dict, line: CommandLine) -> list[dict]:
    from tracker.views.series import series_rows

    overview = reads.series_overview(run)
    health = reads.source_health(run)
    entry["health"] = health  # the text adds a line per failing source
    return series_rows(overview, health, _stale(run, entry, [row.id for row in overview], health),
                       entry["labels"])


def _series_text(rows: list[dict], entry: dict) -> str:
    from tracker.views.series import series_text

    return series_text(rows, entry["health"], **_terminal())


def _health(run: Run, entry: dict, line: CommandLine) -> dict:
    """The verdict as the full CLI reaches it: the leader lock is probed live, as the
    poll times are read, whatever the cache holds."""
    from db.leaderlock import lock_holder
    from tracker.views.health import health_report, problems

    health = reads.source_health(run)
    ids = [id_ for (id_,) in run(reads.SERIES_IDS, {})]
    outbox = reads.outbox_summary(run)
    leader = lock_holder(entry["lock_of"])
    intervals = entry["intervals"]
    verdict = problems(health, set(entry["used_sources"]),
                       lambda group: timedelta(seconds=intervals[group]), leader,
                       datetime.now(UTC), outbox)
    entry["quiet"] = ("--quiet", None) in line.options
    return health_report(health, _stale(run, entry, ids, health), outbox, leader, verdict)


def _health_text(found: dict, entry: dict) -> str:
    from tracker.views.health import health_text, problem_lines

    if entry["quiet"]:
        return "".join(line + "\n" for line in problem_lines(found))
    return health_text(found, datetime.now(UTC))


# ---- scoreboard --------------------------------------------------------------------------

class Scored(NamedTuple):
    """What the scoreboard reads of a prediction (``tracker.scoreboard.score``)."""

    id: str
    who: str
    scored: bool


def _kept_prices(run: Run, predictions: list[tuple[str, bool, str]]) -> dict[str, float]:
    """The made_on price of each scored (id, scored, definition key), as kept for that
    definition (tracker/service/made_on.py). Declined when one is not kept: the full CLI
    works it out and keeps it (which the lean path cannot)."""
    kept = reads.made_on_price_rows(run, [pid for pid, scored, _ in predictions if scored])
    priced = {}
    for pid, scored, definition in predictions:
        if not scored:
            continue
        row = kept.get(pid)
        if row is None or row.definition != definition:
            raise Declined(f"no made_on price kept for {pid}")
        if row.price is not None:
            priced[pid] = row.price
    return priced


def _scoreboard(run: Run, entry: dict, line: CommandLine) -> list[dict]:
    from tracker.scoreboard import score

    predictions = entry["predictions"]
    priced = _kept_prices(run, [(pid, scored, key) for pid, _who, scored, key in predictions])
    latest = {pid: (snap.status, snap.probability, snap.model)
              for pid, snap in reads.latest_snapshots(run).items()}
    rows = score([Scored(pid, who, scored) for pid, who, scored, _ in predictions], latest,
                 priced)
    entry["rows"] = rows
    return [row.as_dict() for row in rows]


def _scoreboard_text(found: list[dict], entry: dict) -> str:
    from tracker.views.scoreboard import scoreboard_text

    return scoreboard_text(entry["rows"], **_terminal())


# ---- show ---------------------------------------------------------------------------------

def _show(run: Run, entry: dict, line: CommandLine) -> dict:
    """Declined for an id the cache does not know (the full CLI says so), and when a
    series' stored name changed since (the rule quotes a market's question)."""
    from tracker.views.show import gather

    spec = entry["predictions"].get(line.argument)
    if spec is None:
        raise Declined(f"no prediction {line.argument!r} cached")
    rows = reads.series_by_id(run, [series["id"] for series in spec["series"]])
    for series in spec["series"]:
        row = rows.get(series["id"])
        if (row.name if row else None) != series["stored_name"]:
            raise Declined(f"{series['id']}: its name changed")
    return gather(run, spec, datetime.now(UTC), rows)


def _show_text(found: dict, entry: dict) -> str:
    from tracker.views.show import render

    return "\n".join(render(found)) + "\n"


# ---- digest --------------------------------------------------------------------------------

def _digest(run: Run, entry: dict, line: CommandLine) -> Answer:
    """Today's digest: its preview written to ``line.preview``, its text printed, or
    both, as ``tracker digest`` does. Declined when a made_on price is not kept, and when
    the preview's folder does not exist (the full CLI says so)."""
    from tracker.digest.content import Listed, build_digest, local_day
    from tracker.sources import group_of

    if line.preview is not None and not Path(line.preview).absolute().parent.is_dir():
        raise Declined(f"no folder for {line.preview!r}")
    predictions = entry["predictions"]
    priced = _kept_prices(run, [(pid, scored, key) for pid, _, _, scored, key in predictions])
    intervals, timezone, now = entry["intervals"], entry["timezone"], datetime.now(UTC)
    digest = build_digest(
        run, [Listed(pid, who, claim, scored) for pid, who, claim, scored, _ in predictions],
        priced, series_ids=entry["series_ids"],
        interval_of=lambda source: timedelta(seconds=intervals[group_of(source)]),
        timezone=timezone, day=local_day(now, timezone), now=now,
        per_statement=1)  # see reads.newest_points
    printed = []
    if line.preview is not None:
        from tracker.digest.charts import charts_for
        from tracker.digest.render import preview_html

        page = preview_html(digest, charts_for(digest), entry["public_url"])
        Path(line.preview).write_text(page, encoding="utf-8")
        printed.append(f"wrote {line.preview}\n")
    if line.show_text:
        from tracker.digest.render import render_text

        printed.append(render_text(digest, entry["public_url"]) + "\n")
    return Answer("".join(printed))


READS: dict[str, Callable[[Run, dict, CommandLine], Any]] = {
    "status": _status, "series": _series, "health": _health, "scoreboard": _scoreboard,
    "show": _show,
}
TEXT: dict[str, Callable[[Any, dict], str]] = {
    "status": _status_text, "series": _series_text, "health": _health_text,
    "scoreboard": _scoreboard_text, "show": _show_text,
}
