"""The text of each notification: plain text, a title and a few lines, written when the
event is detected (the outbox keeps it as it was then).

Each message about a claim names it (id and claim), its person, what it was and what it
is, and links to its page when ``[web] public_url`` is set. Registry text and source
errors are untrusted: made one visible line each (tracker/textsafe.py)."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from tracker.formats import percent
from tracker.notify.events import Event
from tracker.textsafe import visible

ERROR_CHARS = 300  # of a source's error, in a message


class Claim(Protocol):
    id: str
    who: str
    claim: str


def status_words(status: str | None) -> str:
    return (status or "-").replace("_", " ")


def claim_url(public_url: str, prediction_id: str) -> str:
    """The claim's page, as the digest links it; "" when the pages are not published."""
    if not public_url:
        return ""
    return f"{public_url.rstrip('/')}/p/{quote(prediction_id, safe='')}"


def render(event: Event, claim: Claim | None, public_url: str = "") -> tuple[str, str]:
    """(title, body) of an event's message."""
    if event.kind == "source":
        return _source(event)
    pid = visible(event.prediction_id)
    who = visible(claim.who) if claim else "?"
    lines = [f"{pid}: {visible(claim.claim) if claim else '(no longer in the registry)'}",
             f"by {who}"]
    if event.kind == "due":
        title = f"Ready to resolve? {pid}"
        lines.append(f"deadline {event.deadline} passed without a verdict: "
                     f"tracker resolve {event.prediction_id} right|wrong")
    else:
        before, after = status_words(event.status_before), status_words(event.status_after)
        p_before, p_after = percent(event.probability_before), percent(event.probability_after)
        if event.kind == "resolved":
            title = f"Resolved {after}: {pid}"
        elif event.kind == "status":
            title = f"Now {after}: {pid}"
        else:
            title = f"Moved {p_before} -> {p_after}: {pid}"
        lines.append(f"status: {before} -> {after}" if before != after else f"status: {after}")
        if event.probability_before is not None or event.probability_after is not None:
            lines.append(f"probability: {p_before} -> {p_after}")
    link = claim_url(public_url, event.prediction_id or "")
    if link:
        lines.append(link)
    return title, "\n".join(lines)


def _source(event: Event) -> tuple[str, str]:
    name = visible(event.source)
    since = f"{event.failing_since:%Y-%m-%d %H:%M} UTC" if event.failing_since else "unknown"
    if event.status_after == "failing":
        error = visible(event.error or "")
        if len(error) > ERROR_CHARS:
            error = error[:ERROR_CHARS] + "..."
        body = (f"{name} failed {event.failures} polls in a row, since {since}\n"
                f"last error: {error}\nstatus: ok -> failing")
        return f"Source failing: {name}", body
    body = (f"{name} works again after {event.failures} failed polls (failing since {since})\n"
            "status: failing -> ok")
    return f"Source working again: {name}", body
