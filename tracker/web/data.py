"""What each page and each /api/ answer reads: the same functions, over the same queries,
as the command line's listings, so a page shows what `tracker status --json`,
`scoreboard --json`, `series --json`, `health --json` and `show ID --json` print."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from db import queries, reads
from tracker.scoreboard import PersonScore, score
from tracker.service.freshness import staleness
from tracker.service.made_on import made_on_prices
from tracker.views.health import report
from tracker.views.series import series_rows
from tracker.views.show import gather_prediction
from tracker.views.status import Selection, matches_who, select, status_rows, summaries

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tracker.config import Settings
    from tracker.hits import HitsChart
    from tracker.registry import Registry

INPUT_SLICES = 150  # an input's chart is read thinned to four points a slice


class Source:
    """The database, registry and settings every page reads; ``notice``: a line every
    page shows first (the demo's banner: its data are not live)."""

    def __init__(self, engine: Engine, registry: Registry, settings: Settings,
                 notice: str | None = None):
        self.engine = engine
        self.registry = registry
        self.settings = settings
        self.notice = notice
        self._hits: tuple[tuple, HitsChart | None] | None = None  # (what it was read from, it)

    def status(self, selection: Selection | None = None) -> list[dict[str, Any]]:
        """`tracker status --json`: ValueError when ``selection.who`` names no one."""
        rows = status_rows(summaries(self.registry), queries.latest_snapshots(self.engine))
        return select(rows, selection or Selection())

    def scoreboard(self) -> list[PersonScore]:
        """`tracker scoreboard`'s rows, best first."""
        latest = {pid: (snap.status, snap.probability, snap.model)
                  for pid, snap in queries.latest_snapshots(self.engine).items()}
        return score(self.registry, latest, self.made_on_prices())

    def expected_hits(self) -> HitsChart | None:
        """Everyone's expected hits over the year (tracker/service/hits.py). Kept until a
        snapshot is stored or a verdict given by hand changes: only then can it change,
        and a page view asks first for those, two small reads."""
        from tracker.service.hits import expected_hits, verdicts_by_hand

        with queries.reading(self.engine) as run:
            ends = reads.snapshot_ends(run)
            verdicts = verdicts_by_hand(run)
            key = (id(self.registry), ends.newest_id, sorted(verdicts.items()))
            kept = self._hits
            if kept is not None and kept[0] == key:
                return kept[1]
            chart = expected_hits(run, self.registry, ends, verdicts)
        self._hits = (key, chart)
        return chart

    def made_on_prices(self) -> dict[str, float]:
        """Each prediction's price at the end of the day it was made, where it had one."""
        return made_on_prices(self.engine, self.registry)

    def prediction(self, prediction_id: str) -> dict[str, Any] | None:
        """`tracker show ID --json`; None for an id the registry does not hold."""
        prediction = self.registry.get(prediction_id)
        if prediction is None:
            return None
        return gather_prediction(self.engine, self.registry, prediction)

    def input_points(self, details: dict[str, Any]) -> dict[str, list[tuple[datetime, float]]]:
        """Each input series of ``details`` (``prediction``'s answer) over its chart's
        window, thinned in the database to what its chart draws."""
        from tracker.chart import column_ends
        from tracker.views.show import window_span

        window = details["chart_window"]
        first, last = window_span((date.fromisoformat(window["from"]),
                                   date.fromisoformat(window["to"])))
        edges = [first, *column_ends(first, last, INPUT_SLICES)]
        return queries.thinned_points(self.engine, [s["id"] for s in details["series"]], edges)

    def _stale(self) -> dict[str, bool]:
        return staleness(self.engine, queries.all_series_ids(self.engine), datetime.now(UTC),
                         self.settings)

    def series(self) -> list[dict[str, Any]]:
        """`tracker series --json`."""
        from tracker.registry.labels import LABELS

        return series_rows(queries.series_overview(self.engine),
                           queries.source_health(self.engine), self._stale(), LABELS)

    def health(self) -> dict[str, Any]:
        """`tracker health --json` (the demo's, under its notice, without a verdict)."""
        return report(self.engine, self.settings, self.registry, self._stale(),
                      judge=self.notice is None)

    def calibration(self) -> dict[str, Any]:
        """`tracker calibration --json`."""
        from tracker.service.calibration import calibration_report

        return calibration_report(self.engine, self.registry)

    def person(self, name: str) -> str | None:
        """The name of the person ``name`` stands for: their name in any case, or one word
        of it that no one else's shares; None when it is no one's, or several people's."""
        people = sorted({p.who for p in self.registry})
        exact = [who for who in people if who.casefold() == name.casefold().strip()]
        found = exact or [who for who in people if matches_who(name, who)]
        return found[0] if len(found) == 1 else None
