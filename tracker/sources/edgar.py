"""SEC EDGAR: the registration statements a company files, ``edgar:<CIK>``.

``GET {base_url}/submissions/CIK##########.json`` (the CIK zero-padded to ten digits) needs
no key, but SEC asks every client to send a User-Agent naming who asks, with a contact
address (``[sources.edgar] user_agent``), and to stay under ten requests a second. The
answer names the filer (``name``) and lists its filings in ``filings.recent``: parallel
arrays (``accessionNumber``, ``filingDate``, ``form``, ...), newest first, holding at least
the last year or the last 1,000 filings; older ones sit in ``filings.files``, which a claim
on this year's filings does not need.

The series counts registration statements for a public offering: ``S-1``, ``F-1``, their
amendments, and the draft statements (``DRS``, ``DRS/A``) a company submits confidentially,
which EDGAR lists, dated when they were submitted, once it makes them public. A point is
stamped 00:00 UTC of a filing date and holds the number of those filings that day. Every
fetch also stores a point for its own date (UTC), 0 when nothing was filed that day: it
records that EDGAR was asked, so "nothing filed" is data, and a company that has never
filed one still answers with a point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from tracker.sources.base import (
    NotFound,
    PayloadError,
    Point,
    SeriesData,
    SourceError,
    SourceReport,
    fetch_each,
    within,
)
from tracker.sources.http import HttpClient, HttpStatusError

if TYPE_CHECKING:
    from tracker.config import Settings

NAME = "edgar"
REGISTRATION_FORMS = ("S-1", "S-1/A", "F-1", "F-1/A", "DRS", "DRS/A")
UNIT = "filings"
MAX_CIK_DIGITS = 10
MAX_NAME = 300  # the series name column


def is_cik(symbol: str) -> bool:
    return symbol.isascii() and symbol.isdigit() and 0 < len(symbol) <= MAX_CIK_DIGITS


def submissions_path(cik: str) -> str:
    """``/submissions/CIK0001181412.json`` for ``1181412``."""
    return f"/submissions/CIK{int(cik):010d}.json"


def registration_filings(payload: Any, cik: str) -> tuple[str | None, list[tuple[date, str]]]:
    """The filer's name and its (filing date, form) of every registration statement."""
    if not isinstance(payload, dict):
        raise PayloadError("expected a submissions object")
    _same_filer(payload.get("cik"), cik)
    filings = payload.get("filings")
    recent = filings.get("recent") if isinstance(filings, dict) else None
    if not isinstance(recent, dict):
        raise PayloadError("no filings.recent in the submissions payload")
    dates, forms = recent.get("filingDate"), recent.get("form")
    if not isinstance(dates, list) or not isinstance(forms, list):
        raise PayloadError("filings.recent lacks its filingDate and form lists")
    numbers = recent.get("accessionNumber")
    if len(dates) != len(forms) or (isinstance(numbers, list) and len(numbers) != len(forms)):
        raise PayloadError("filings.recent lists differ in length")
    found = [(_day(day), form) for day, form in zip(dates, forms) if form in REGISTRATION_FORMS]
    return _name(payload.get("name")), found


def parse_submissions(payload: Any, cik: str, today: date) -> SeriesData:
    """One point per day with registration filings (their count), and one for ``today``."""
    name, found = registration_filings(payload, cik)
    per_day = Counter(day for day, _form in found)
    per_day.setdefault(today, 0)
    points = [
        Point(ts=datetime.combine(day, time(), UTC), value=float(count))
        for day, count in sorted(per_day.items())
    ]
    return SeriesData(symbol=cik, points=points, name=name, unit=UNIT)


def _same_filer(found: Any, cik: str) -> None:
    """The payload is for the CIK asked for (SEC writes it as a zero-padded string)."""
    try:
        same = int(str(found)) == int(cik)
    except ValueError:
        same = False
    if not same:
        raise PayloadError(f"submissions for CIK {str(found)[:20]!r}, not {cik}")


def _day(text: Any) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise PayloadError(f"bad filingDate {str(text)[:30]!r}") from None


def _name(value: Any) -> str | None:
    """The filer's name as plain text on one line (it is shown, never interpreted)."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split())[:MAX_NAME] or None


async def _submissions(http: HttpClient, settings: Settings, cik: str) -> Any:
    if not is_cik(cik):
        raise SourceError(f"{cik!r} is not a CIK: use the SEC's number, digits only")
    config = settings.sources.edgar
    headers = {"User-Agent": config.user_agent, "Accept": "application/json"}
    try:
        return await http.get_json(config.base_url + submissions_path(cik),
                                   origin="SEC EDGAR", headers=headers)
    except HttpStatusError as exc:
        if exc.status == 404:
            raise NotFound(f"no such filer: EDGAR has no CIK {cik}") from None
        if exc.status == 403:
            raise SourceError(
                "SEC EDGAR refused the request (403): set [sources.edgar] user_agent to "
                "your name and email", exc.retry_after,
            ) from None
        raise


class Edgar:
    """``edgar:<CIK>``: a company's registration statements, counted per filing day. One
    request returns every recent filing, so history needs no windows."""

    name = NAME
    history_window = None

    async def fetch(
        self, http: HttpClient, settings: Settings, symbols: dict[str, date], now: datetime
    ) -> SourceReport:
        """Every registration filing the recent list holds, whatever ``since`` says: a
        private company has a handful, and a re-sent point is stored once."""

        async def fetch_one(cik: str, _since: date) -> SeriesData:
            return parse_submissions(await _submissions(http, settings, cik), cik, now.date())

        return await fetch_each(NAME, symbols, fetch_one)

    async def history(
        self, http: HttpClient, settings: Settings, symbol: str, meta: dict | None,
        windows: Sequence[tuple[datetime, datetime]],
    ) -> AsyncIterator[SeriesData]:
        for start, end in windows:
            payload = await _submissions(http, settings, symbol)
            series = parse_submissions(payload, symbol, end.date())
            series.points = within(series.points, start, end)
            yield series


SOURCE = Edgar()
