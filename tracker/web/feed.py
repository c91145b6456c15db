"""The Atom feed (`/feed.atom`): each claim's status changes, newest first, a verdict
given by hand with its note. A feed reader keeps what it has seen by entry id, so an
entry's id depends only on the claim, the moment and the status: the same on every
build, whatever address the feed is read from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.etree import ElementTree as ET

from db import queries, reads
from tracker.digest.render import status_label
from tracker.textsafe import visible

if TYPE_CHECKING:
    from starlette.requests import Request

    from tracker.web.data import Source

ATOM = "http://www.w3.org/2005/Atom"
MOST = 100  # entries in the feed: a reader polls often, and older changes are on the pages
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tracker.invalid/feed")
FEED_ID = f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed')}"


@dataclass(frozen=True)
class Change:
    """A claim's status changing (the first status it was given included)."""

    prediction_id: str
    who: str
    claim: str
    at: datetime
    status: str
    before: str | None
    explanation: str
    note: str | None  # the note of a verdict given by hand

    @property
    def entry_id(self) -> str:
        key = f"{self.prediction_id}\n{self.at.isoformat()}\n{self.status}"
        return f"urn:uuid:{uuid.uuid5(NAMESPACE, key)}"


def changes(source: Source, most: int = MOST) -> list[Change]:
    """The ``most`` newest status changes of every claim in the registry, newest first."""
    found: list[Change] = []
    with queries.reading(source.engine) as run:
        verdicts = reads.resolutions(run)
        for prediction in source.registry:
            before = None
            for snap in reads.status_changes(run, prediction.id):
                verdict = verdicts.get(prediction.id)
                by_hand = snap.model == "manual" and verdict is not None
                found.append(Change(prediction.id, prediction.who, prediction.claim, snap.at,
                                    snap.status, before, snap.explanation,
                                    verdict.note if by_hand else None))
                before = snap.status
    found.sort(key=lambda change: (change.at, change.prediction_id), reverse=True)
    return found[:most]


def atom(entries: list[Change], base: str, now: datetime | None = None) -> bytes:
    """The feed of ``entries`` as Atom XML; links are ``base`` (an absolute URL ending in
    /) joined to each page's path. ElementTree escapes every text it writes."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    newest = entries[0].at if entries else (now or datetime.now(UTC))
    _text(feed, "id", FEED_ID)
    _text(feed, "title", "tracker: status changes")
    _text(feed, "updated", _stamp(newest))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=base + "feed.atom")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=base)
    _text(_text(feed, "author", None), "name", "tracker")
    for change in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", change.entry_id)
        _text(entry, "title", visible(f"{_verb(change)}: {change.claim}"))
        _text(entry, "updated", _stamp(change.at))
        _text(_text(entry, "author", None), "name", visible(change.who))
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html",
                      href=f"{base}p/{quote(change.prediction_id, safe='')}")
        _text(entry, "summary", visible(_summary(change)))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _verb(change: Change) -> str:
    """"Right (was open)"; a claim's first status alone."""
    now = status_label(change.status)
    if change.before is None:
        return now
    return f"{now} (was {status_label(change.before).lower()})"


def _summary(change: Change) -> str:
    if change.note is not None:
        return f"Verdict given by hand: {status_label(change.status).lower()}" + (
            f": {change.note}" if change.note else ".")
    return change.explanation


def _text(parent: ET.Element, name: str, text: str | None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed(request: Request):
    """`/feed.atom`: links to ``[web] public_url`` when it is set, else to this server."""
    from starlette.responses import Response

    source: Source = request.app.state.source
    base = _public_url(source) or str(request.base_url)
    return Response(atom(changes(source), base if base.endswith("/") else base + "/"),
                    media_type="application/atom+xml")


def _public_url(source: Source) -> str:
    return source.settings.web.public_url
