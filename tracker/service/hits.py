"""Everyone's expected hits over the year, read from the stored snapshots: the moments
are sampled evenly from the first snapshot (or 1 January) to the newest, and only the
snapshot in force at each moment is read, so the cost follows the moments and the
claims, not how often a claim's chance changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db import reads
from tracker.hits import HitsChart, State, expected_hits_over_time, sample_times

if TYPE_CHECKING:
    from collections.abc import Iterable

    from db.reads import Run, SnapshotEnds
    from tracker.hits import Call


def verdicts_by_hand(run: Run) -> dict[str, State]:
    """Each verdict given by hand (``tracker resolve``), in force from when it was given."""
    return {pid: State(row.resolved_at, row.outcome, None)
            for pid, row in reads.resolutions(run).items()}


def expected_hits(run: Run, predictions: Iterable[Call], ends: SnapshotEnds | None = None,
                  verdicts: dict[str, State] | None = None) -> HitsChart | None:
    """The chart's lines, through every moment sampled; None before any snapshot is
    stored. ``ends`` and ``verdicts``: as read already (``reads.snapshot_ends``,
    ``verdicts_by_hand``), else read here."""
    ends = ends or reads.snapshot_ends(run)
    if ends.newest_id is None:
        return None
    verdicts = verdicts_by_hand(run) if verdicts is None else verdicts
    end = max([ends.newest_at, *(verdict.at for verdict in verdicts.values())])
    times = sample_times(ends.first_at, end)
    scored = [p for p in predictions if p.scored]
    found = reads.in_force(run, [p.id for p in scored], times)
    states = {pid: [State(row.at, row.status, row.probability) for row in rows]
              for pid, rows in found.items()}
    lines = expected_hits_over_time(scored, states, verdicts, times)
    return HitsChart(times, list(lines.values()))
