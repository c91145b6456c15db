"""What ``tracker health`` shows: each source's last attempt and success, its failures and
since when, why it failed (a line per cause, tracker/errorgroups.py; ``--verbose``: each
failing symbol with its whole message), and when it will be asked again; then the series
that are stale; then, once notifications have had a message, what waits in their outbox
and how each target is doing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.reads import OutboxSummary, symbol_errors
from tracker.errorgroups import cause_line, group_errors


def health_report(health: dict[str, Any], stale: dict[str, bool],
                  outbox: OutboxSummary | None = None) -> dict[str, Any]:
    """``health``: source -> its source_health row; ``stale``: every stored series id ->
    stale or not; ``outbox``: the notifications' (db.reads.outbox_summary)."""
    return {
        "sources": [_source(name, h) for name, h in sorted(health.items())],
        "stale_series": sorted(sid for sid, is_stale in stale.items() if is_stale),
        "series_stored": len(stale),
        "notifications": _notifications(outbox),
    }


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

