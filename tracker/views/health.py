"""What ``tracker health`` shows: each source's last attempt and success, its failures and
since when, why it failed (a line per cause, tracker/errorgroups.py; ``--verbose``: each
failing symbol with its whole message), and when it will be asked again; then the series
that are stale; then, once notifications have had a message, what waits in their outbox
and how each target is doing; last, the problems that make it exit 1 (``problems``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from db.reads import OutboxSummary, symbol_errors
from tracker.errorgroups import cause_line, group_errors

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from db.leaderlock import Holder
    from tracker.config import Settings
    from tracker.registry import Registry

# A group is overdue once its newest successful poll is older than this many intervals:
# one missed poll is a blip (a slow API, a restart), three are a daemon not doing its job.
MISSED_POLLS = 3


def health_report(health: dict[str, Any], stale: dict[str, bool],
                  outbox: OutboxSummary | None = None, leader: Holder | None = None,
                  problems: list[str] | None = None) -> dict[str, Any]:
    """``health``: source -> its source_health row; ``stale``: every stored series id ->
    stale or not; ``outbox``: the notifications' (db.reads.outbox_summary); with
    ``problems`` (the verdict, ``problems``), the leading daemon too."""
    found = {
        "sources": [_source(name, h) for name, h in sorted(health.items())],
        "stale_series": sorted(sid for sid, is_stale in stale.items() if is_stale),
        "series_stored": len(stale),
        "notifications": _notifications(outbox),
    }
    if problems is not None:
        found |= {"leader": leader and {"holder": leader.text, "since": leader.since},
                  "problems": problems, "ok": not problems}
    return found


def problems(health: dict[str, Any], used_sources: set[str],
             interval_of: Callable[[str], timedelta], leader: Holder | None,
             now: datetime, outbox: OutboxSummary | None = None) -> list[str]:
    """What is wrong with the daemon's work on this database, a line each; none: healthy.
    The one verdict behind ``tracker health``'s exit status, on either path.

    ``health``: source -> its source_health row; ``used_sources``: the sources the
    registry reads; ``interval_of(group)``: its poll interval; ``leader``: the daemon
    holding the leader lock, if any; ``outbox``: the notifications waiting."""
    from tracker.notify.problems import outbox_problems

    found = [] if leader else ["no daemon holds the leader lock on this database"]
    found += _overdue_groups(health, used_sources, interval_of, leader, now)
    return found + (outbox_problems(outbox, now) if outbox is not None else [])


def report(engine: Engine, settings: Settings, registry: Registry, stale: dict[str, bool],
           judge: bool = True) -> dict[str, Any]:
    """`tracker health --json` on a database the full CLI (or the web view) opened, with
    the verdict unless ``judge`` is false (the demo: no daemon polls it)."""
    from db import queries, reads

    health = queries.source_health(engine)
    with queries.reading(engine) as run:
        outbox = reads.outbox_summary(run)
    if not judge:
        return health_report(health, stale, outbox)
    leader, found = verdict(engine, settings, registry, health, datetime.now(UTC), outbox)
    return health_report(health, stale, outbox, leader, found)


def verdict(engine: Engine, settings: Settings, registry: Registry, health: dict[str, Any],
            now: datetime, outbox: OutboxSummary | None = None) -> tuple[Holder | None, list[str]]:
    """The leading daemon and ``problems``, on a database the full CLI (or the web view)
    opened; the lean path (tracker/quick/) reaches the same through sqlite3."""
    from db.leaderlock import leader_present
    from tracker.service.poll import used_sources

    leader = leader_present(engine)
    return leader, problems(health, used_sources(registry), settings.schedule.interval,
                            leader, now, outbox)


def _overdue_groups(health, used_sources, interval_of, leader, now) -> list[str]:
    """A group whose newest successful poll is older than MISSED_POLLS intervals. One
    that never succeeded counts from its first failed poll or, before any, from when
    the leading daemon took the lock: a daemon that just started gets as long."""
    from tracker.formats import when
    from tracker.sources import GROUPS, group_of

    found = []
    for group in GROUPS:
        sources = sorted(s for s in used_sources if group_of(s) == group)
        if not sources:
            continue
        limit = MISSED_POLLS * interval_of(group)
        rows = [health[source] for source in sources if source in health]
        label, allowed = f"{group} ({', '.join(sources)})", f"{MISSED_POLLS} intervals: {_span(limit)}"
        successes = [row.last_success_at for row in rows if row.last_success_at]
        if successes:
            if now - max(successes) > limit:
                found.append(f"no successful poll of {label} since {when(max(successes))}, "
                             f"longer than {allowed}")
            continue
        starts = [row.failing_since for row in rows if row.failing_since]
        if not starts and leader and leader.since:
            starts = [leader.since]
        if starts and now - min(starts) > limit:
            found.append(f"{label} never polled successfully since {when(min(starts))}, "
                         f"longer than {allowed}")
    return found


def _span(span: timedelta) -> str:
    """A duration as people say it: '45 min', '18 h', '90 s'."""
    seconds = span.total_seconds()
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _notifications(outbox: OutboxSummary | None) -> dict[str, Any]:
    if outbox is None:
        return {"pending": 0, "oldest_pending_at": None, "targets": []}
    return {"pending": outbox.pending, "oldest_pending_at": outbox.oldest_pending_at,
            "targets": [target._asdict() for target in outbox.targets]}


def _source(name: str, h) -> dict[str, Any]:
    failing = symbol_errors(h)
    return {
        "source": name,
        "ok": h.consecutive_failures == 0,
        "last_attempt_at": h.last_attempt_at,
        "last_success_at": h.last_success_at,
        "consecutive_failures": h.consecutive_failures,
        "failing_since": h.failing_since,
        "last_error": h.last_error,
        "failing_symbols": sorted(failing),
        "symbol_errors": failing,
        "causes": [{"cause": cause.text, "symbols": list(cause.symbols)}
                   for cause in group_errors(failing, h.last_error)],
        "next_allowed_at": h.next_allowed_at,
    }


def health_text(found: dict[str, Any], now: datetime, verbose: bool = False) -> str:
    """The report as lines for people: each source's errors grouped by cause, or with
    ``verbose`` each failing symbol's whole message. Errors and symbols are untrusted:
    made visible."""
    lines = [] if found["sources"] else ["no poll has run yet: run `tracker poll` or `tracker run`"]
    for source in found["sources"]:
        lines += _source_lines(source, now, verbose)
    stale = found["stale_series"]
    if not found["series_stored"]:
        lines.append("no series stored yet: `tracker poll` fetches them, `tracker backfill` "
                     "their history")
    else:
        lines.append(f"stale series: {', '.join(stale)}" if stale else "stale series: none")
    lines += _notification_lines(found["notifications"])
    if "leader" in found:
        lines.append(_leader_line(found["leader"]))
    lines += problem_lines(found)
    return "".join(line + "\n" for line in lines)


def _notification_lines(n: dict[str, Any]) -> list[str]:
    """Nothing until a target has had a message; then the outbox, and a line per target.
    A target's error is untrusted (a server's answer): made visible."""
    from tracker.formats import when
    from tracker.textsafe import visible

    if not n["targets"]:
        return []
    waiting = (f"{n['pending']} waiting, the oldest since {when(n['oldest_pending_at'])}"
               if n["pending"] else "none waiting")
    lines = [f"notifications: {waiting}"]
    for t in n["targets"]:
        last = f"last accepted {when(t['last_sent_at'])}" if t["last_sent_at"] else "never accepted one"
        if not (t["retrying"] or t["given_up"]):
            lines.append(visible(f"  {t['label']}: ok, {last}"))
            continue
        parts = [f"{t['pending']} waiting ({t['retrying']} retrying)" if t["pending"] else "",
                 f"{t['given_up']} given up" if t["given_up"] else "", last]
        lines.append(visible(f"  {t['label']}: FAILING: {', '.join(p for p in parts if p)}"))
        if t["last_error"]:
            lines.append(visible(f"    last error: {t['last_error']}"))
    return lines


def _leader_line(leader: dict[str, Any] | None) -> str:
    """The lock file's text is the daemon's, but anyone who can write there could change it."""
    from tracker.formats import when
    from tracker.textsafe import visible

    if leader is None:
        return "leader: none"
    since = f", since {when(leader['since'])}" if leader["since"] else ""
    return visible(f"leader: {leader['holder']}{since}")


def problem_lines(found: dict[str, Any]) -> list[str]:
    """A line per problem (``--quiet`` prints only these). The leader's text and source
    names come from the database: made visible."""
    from tracker.textsafe import visible

    return [visible(f"PROBLEM: {problem}") for problem in found.get("problems", ())]


def _source_lines(s: dict[str, Any], now: datetime, verbose: bool) -> list[str]:
    """A source's lines. Symbols of a working source that failed on their own (unknown,
    delisted) are listed under it too."""
    from tracker.formats import when

    if s["ok"]:
        problems = s["symbol_errors"]
        failing = f"; {len(problems)} symbol{'s' if len(problems) > 1 else ''} failing" if problems else ""
        return [f"{s['source']}: ok, last success {when(s['last_success_at'])}{failing}",
                *_why(s, verbose)]
    last_ok = when(s["last_success_at"]) if s["last_success_at"] else "never"
    failures = s["consecutive_failures"]
    lines = [(f"{s['source']}: FAILING since {when(s['failing_since'])} "
             f"({failures} poll{'s' if failures > 1 else ''} in a row; last success {last_ok})"),
             *_why(s, verbose)]
    if s["next_allowed_at"] and s["next_allowed_at"] > now:
        lines.append(f"  backing off: next try after {when(s['next_allowed_at'])}")
    return lines


def _why(s: dict[str, Any], verbose: bool) -> list[str]:
    """Indented: a line per cause, or with ``verbose`` a line per failing symbol with its
    message as stored (the last error, when the source failed without naming one)."""
    from tracker.textsafe import visible

    if not verbose:
        return [visible(f"  {cause_line(s['source'], cause['cause'], cause['symbols'])}")
                for cause in s["causes"]]
    if not s["symbol_errors"] and s["last_error"]:
        return [visible(f"  last error: {s['last_error']}")]
    return [visible(f"  {s['source']}:{symbol}: {message}")
            for symbol, message in sorted(s["symbol_errors"].items())]

