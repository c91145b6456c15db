"""When is a series too old to judge by? Pure functions, with only the standard library:
the full CLI and the quick `tracker series --json` path (tracker/quick/) both call
``stale_series`` on the rows they read.

Two tests, either one makes a series stale:
- It has missed its expected next release by a margin. The expectation is learned from
  when its points were first stored: FRED publishes its daily WTI price once a week, a
  week behind, and monthly data weeks after the month, so the age of the newest
  observation says little. Until a series has shown a few releases, its observation
  dates stand in: about two trading days for daily data, a period and a release lag for
  slower data.
- Its source was asked since the series was last refreshed, and it has not been
  refreshed for three poll intervals (a source or a symbol failing).

A market's odds are stored only when they change, so the spacing of its points says
nothing about whether it is still being read. A market series a poll has confirmed is
judged by the time of that confirmation instead (``confirmed_stale``): both tests apply,
with the poll interval as its cadence. A market whose final state was confirmed is
never stale: its value will not change, and it is no longer polled.

Staleness only decides whether an open claim gets a probability: a claim settled by
stored data stays settled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only
    from typing import Protocol

    class Dated(Protocol):
        """A point, as these rules see it: when it was observed."""

        ts: datetime

    class Stored(Dated, Protocol):
        """A stored point (``db.reads.StoredPoint``): also when it was fetched last and
        first stored."""

        fetched_at: datetime
        first_seen_at: datetime

    class Polled(Protocol):
        """A source's health row (``db.reads.SourceHealthRow``): when it was last asked."""

        last_attempt_at: datetime | None

    class Confirmed(Protocol):
        """A market series' fetch times (``db.reads.Confirmation``)."""

        confirmed_at: datetime  # the latest fetch that returned it, changed or not
        resolution_confirmed_at: datetime | None  # its final state, read twice

RECENT = 30  # newest points read to judge a series: six weekly releases of daily data
# Points first stored this close together arrived in one release (one poll, one backfill).
SAME_RELEASE = timedelta(minutes=1)
MIN_RELEASES = 3  # releases seen before their spacing is trusted as the cadence
# A release may be this late before the series counts as stale: a long weekend for
# daily data, half a period for slower data.
MIN_SLACK = timedelta(days=3)
# Without releases to learn from, by observation dates: daily prices may be about two
# trading days old plus a weekend or a holiday; slower series lag their period this much.
DAILY_MAX_AGE = timedelta(days=4)
RELEASE_LAG = timedelta(days=45)


def releases(arrivals: list[datetime]) -> list[datetime]:
    """The distinct times new points arrived, oldest first."""
    found: list[datetime] = []
    for at in sorted(arrivals):
        if not found or at - found[-1] > SAME_RELEASE:
            found.append(at)
    return found


def slack(period: timedelta) -> timedelta:
    return max(MIN_SLACK, period / 2)


def release_overdue(arrivals: list[datetime], now: datetime) -> bool | None:
    """Has the next release missed its expected time by the slack? None when too few
    releases were seen to tell."""
    seen = releases(arrivals)
    if len(seen) < MIN_RELEASES:
        return None
    period = median(b - a for a, b in pairwise(seen[-RECENT:]))
    return now - seen[-1] > period + slack(period)


def max_age(points: Sequence[Dated]) -> timedelta:
    """How old the newest point may be, from the spacing of the observation dates."""
    recent = points[-11:]
    gaps = [b.ts - a.ts for a, b in pairwise(recent)]  # the last 10 gaps, or fewer
    cadence = median(gaps) if gaps else timedelta(days=1)
    if cadence <= timedelta(days=1):
        return DAILY_MAX_AGE
    return 2 * cadence + RELEASE_LAG


def is_stale(points: Sequence[Dated], now: datetime, arrivals: list[datetime] | None = None) -> bool:
    """``arrivals``: when each of ``points`` was first stored, where known."""
    if not points:
        return True
    overdue = release_overdue(arrivals or [], now)
    if overdue is not None:
        return overdue
    return now - points[-1].ts > max_age(points)


FETCH_INTERVALS = 3  # poll intervals a series may go without a refresh


def fetch_overdue(
    last_fetch: datetime | None, last_attempt: datetime | None, now: datetime, interval: timedelta
) -> bool:
    """Not refreshed for FETCH_INTERVALS polls although its source was asked since. (A
    daemon that was simply not running has not asked, so a restart does not flag
    everything stale before its first poll.)"""
    if last_fetch is None or last_attempt is None or last_attempt <= last_fetch:
        return False
    return now - last_fetch > FETCH_INTERVALS * interval


def series_stale(
    recent: Sequence[Dated], now: datetime, last_fetch: datetime | None = None,
    last_attempt: datetime | None = None, interval: timedelta | None = None,
    arrivals: list[datetime] | None = None,
) -> bool:
    """Both tests: ``recent`` is the series' newest points and ``arrivals`` when they were
    first stored; the fetch test applies when the source's poll ``interval`` is known."""
    if is_stale(recent, now, arrivals):
        return True
    return interval is not None and fetch_overdue(last_fetch, last_attempt, now, interval)


def confirmed_stale(
    confirmation: Confirmed, has_points: bool, now: datetime,
    interval: timedelta | None = None, last_attempt: datetime | None = None,
) -> bool:
    """Is a market series a poll confirms stale? Not once its final state is confirmed.
    Else when it has not been confirmed for its poll ``interval`` and the slack (the
    expected release missed, each confirmation being a release), or, with ``interval``,
    when its source was asked since and it has gone unconfirmed for FETCH_INTERVALS
    polls. A ``now`` before the confirmation (a past moment looked back on) finds it
    fresh: the value stored then held until that confirmation."""
    if not has_points:
        return True
    if confirmation.resolution_confirmed_at is not None:
        return False
    period = interval or timedelta(0)
    if now - confirmation.confirmed_at > period + slack(period):
        return True
    return interval is not None and fetch_overdue(confirmation.confirmed_at, last_attempt,
                                                  now, interval)


def last_seen(last_ts: datetime | None, confirmed_at: datetime | None) -> datetime | None:
    """When a series' newest value was last seen: its newest point's time, or, for a
    market (whose odds are stored only when they change), the later time a poll
    confirmed that value."""
    if last_ts is None or confirmed_at is None:
        return last_ts
    return max(last_ts, confirmed_at)


def stale_series(
    newest: Mapping[str, Sequence[Stored]], now: datetime,
    health: Mapping[str, Polled] | None = None,
    poll_interval: Callable[[str], timedelta] | None = None,
    confirmed: Mapping[str, Confirmed] | None = None,
) -> dict[str, bool]:
    """Which series are stale. ``newest``: series id -> its newest RECENT stored points,
    oldest first. With ``poll_interval`` (source name -> how often it is polled), also a
    series its source has not refreshed although asked (``health``: source name -> its
    health row, for when the source was last asked). ``confirmed``: series id -> its
    confirmation, for the market series a poll has confirmed, judged by it."""
    health = health or {}
    confirmed = confirmed or {}
    stale = {}
    for series_id, rows in newest.items():
        source = series_id.split(":", 1)[0]
        attempted = health[source].last_attempt_at if source in health else None
        if series_id in confirmed:
            interval = poll_interval(source) if poll_interval else None
            stale[series_id] = confirmed_stale(confirmed[series_id], bool(rows), now, interval,
                                               attempted)
            continue
        arrivals = [row.first_seen_at for row in rows]
        if poll_interval is None:
            stale[series_id] = series_stale(rows, now, arrivals=arrivals)
            continue
        # Every successful poll fetches the newest point again, or a newer one.
        fetched = rows[-1].fetched_at if rows else None
        stale[series_id] = series_stale(rows, now, fetched, attempted, poll_interval(source),
                                        arrivals)
    return stale
