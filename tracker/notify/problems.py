"""When notifications are in trouble, for `tracker health`'s verdict: pure, and light
enough for the lean read path."""

from __future__ import annotations

from datetime import datetime, timedelta

STUCK_AFTER = timedelta(hours=1)  # a message waiting longer is a problem


def outbox_problems(summary, now: datetime) -> list[str]:
    """A line per problem in ``summary`` (db.reads.outbox_summary): a target that gave up
    messages since it last accepted one; messages waiting longer than STUCK_AFTER."""
    problems = [f"notify target {t.label}: {t.given_up} message{'s' if t.given_up > 1 else ''} "
                f"given up since it last accepted one" for t in summary.targets if t.given_up]
    if summary.oldest_pending_at is not None and now - summary.oldest_pending_at > STUCK_AFTER:
        minutes = int((now - summary.oldest_pending_at).total_seconds() // 60)
        problems.append(f"notifications stuck: {summary.pending} waiting, the oldest for "
                        f"{minutes} min")
    return problems
