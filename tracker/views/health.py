"""What ``tracker health`` shows: each source's last attempt and success, its failures and
since when, its last error and failing symbols, and when it will be asked again; then the
series that are stale."""

from __future__ import annotations

from typing import Any

from db.queries import symbol_errors


def health_report(health: dict[str, Any], stale: dict[str, bool]) -> dict[str, Any]:
    """``health``: source -> its source_health row; ``stale``: series id -> stale or not."""
    return {
        "sources": [_source(name, h) for name, h in sorted(health.items())],
        "stale_series": sorted(sid for sid, is_stale in stale.items() if is_stale),
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
