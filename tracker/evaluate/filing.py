"""``filing``: a company files a registration statement for an IPO within the window.

Reads an ``edgar:<CIK>`` series (tracker/sources/edgar.py): a point per day with
registration filings (S-1, F-1, their amendments, confidential drafts once public) holding
their count, and a point, 0 when nothing was filed, for every day EDGAR was asked.

- Right as soon as a filing dated between ``start`` and ``deadline`` is stored; a filing
  before ``start`` (last year's S-1) does not count. Decided stays decided.
- Wrong once EDGAR was asked at least GRACE after the deadline and shows none in the
  window: a filing made on the deadline has had time to be disseminated and polled. A
  confidential draft submitted in the window appears, with its date, only when EDGAR makes
  it public; if that happens later, the verdict turns right. Until then an announced
  confidential submission is settled by hand (``tracker resolve``).
- No data while EDGAR was never asked, when the series is stale, or when the deadline is
  past but EDGAR has not been asked since.
- Otherwise open (off track: nothing filed yet), with no probability: no market or model
  prices a filing, so a composite over it waits for it, or for a verdict by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tracker.evaluate.result import Evaluation, SeriesInput, Status

if TYPE_CHECKING:
    from tracker.registry.schema import Filing

GRACE = timedelta(days=3)


def evaluate(prediction: Filing, inputs: dict[str, SeriesInput], now: datetime) -> Evaluation:
    series = inputs[prediction.series]
    start, deadline = prediction.start, prediction.deadline
    filed = [p for p in series.between(start, deadline) if p.value > 0]
    if filed:
        first, count = filed[0], sum(p.value for p in filed)
        more = f"; {count:.0f} registration filings in the window" if count > 1 else ""
        return Evaluation(
            Status.RIGHT,
            f"{series.name}: registration filing dated {first.ts:%Y-%m-%d} on EDGAR{more}",
            probability=1.0,
            value=count,
            value_at=first.ts,
            inputs={"first_filing": first.ts.date().isoformat(), "filings": count},
        )
    if not series.points:
        return Evaluation(Status.NO_DATA, f"{series.name}: not fetched from EDGAR yet")
    checked = series.points[-1].ts
    headline = {"value": 0.0, "value_at": checked}
    none_found = f"{series.name}: no registration filing dated {start} to {deadline} on EDGAR"
    if checked.date() >= deadline + GRACE:
        return Evaluation(
            Status.WRONG, f"{none_found} (checked {checked:%Y-%m-%d})", probability=0.0,
            **headline,
        )
    if now.date() >= deadline + GRACE:
        return Evaluation(
            Status.NO_DATA,
            f"{none_found} as of {checked:%Y-%m-%d}; EDGAR not checked since the deadline",
            **headline,
        )
    if series.stale:
        return Evaluation(
            Status.NO_DATA, f"{series.name}: EDGAR last checked {checked:%Y-%m-%d} (stale)",
            **headline,
        )
    return Evaluation(
        Status.OFF_TRACK,
        f"{series.name}: no registration filing on EDGAR since {start} yet "
        f"(checked {checked:%Y-%m-%d}; deadline {deadline})",
        **headline,
    )
