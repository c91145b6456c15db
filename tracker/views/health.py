"""What ``tracker health`` shows: each source's last attempt and success, its failures and
since when, its last error and failing symbols, and when it will be asked again; then the
series that are stale."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.reads import symbol_errors


def health_report(health: dict[str, Any], stale: dict[str, bool]) -> dict[str, Any]:
    """``health``: source -> its source_health row; ``stale``: every stored series id ->
    stale or not."""
    return {
        "sources": [_source(name, h) for name, h in sorted(health.items())],
        "stale_series": sorted(sid for sid, is_stale in stale.items() if is_stale),
        "series_stored": len(stale),
    }


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
        "next_allowed_at": h.next_allowed_at,
    }


def health_text(found: dict[str, Any], now: datetime) -> str:
    """The report as lines for people; errors and symbols are untrusted: made visible."""
    lines = [] if found["sources"] else ["no poll has run yet: run `tracker poll` or `tracker run`"]
    for source in found["sources"]:
        lines += _source_lines(source, now)
    stale = found["stale_series"]
    if not found["series_stored"]:
        lines.append("no series stored yet: `tracker poll` fetches them, `tracker backfill` "
                     "their history")
    else:
        lines.append(f"stale series: {', '.join(stale)}" if stale else "stale series: none")
    return "".join(line + "\n" for line in lines)


def _source_lines(s: dict[str, Any], now: datetime) -> list[str]:
    """A source's lines. Symbols of a working source that failed on their own (unknown,
    delisted) are listed under it, one line each."""
    from tracker.formats import when
    from tracker.textsafe import visible

    if s["ok"]:
        problems = s["symbol_errors"]
        failing = f"; {len(problems)} symbol{'s' if len(problems) > 1 else ''} failing" if problems else ""
        return [f"{s['source']}: ok, last success {when(s['last_success_at'])}{failing}",
                *(visible(f"  {s['source']}:{symbol}: {message}")
                  for symbol, message in sorted(problems.items()))]
    last_ok = when(s["last_success_at"]) if s["last_success_at"] else "never"
    lines = [(f"{s['source']}: FAILING since {when(s['failing_since'])} "
             f"({s['consecutive_failures']} polls in a row; last success {last_ok})"),
             f"  last error: {visible(s['last_error'])}"]
    if s["next_allowed_at"] and s["next_allowed_at"] > now:
        lines.append(f"  backing off: next try after {when(s['next_allowed_at'])}")
    return lines
