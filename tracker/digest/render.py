"""The digest as an email: an HTML part built for mail clients (tables, inline styles,
charts as ``cid:`` attachments, nothing loaded from the network) and a plain-text part
with the same content. Claims, explanations and error messages are untrusted text (a
market's title can say anything), so the HTML template is autoescaped, and both parts are
rendered from a copy of the digest whose text is made visible (tracker/textsafe.py): a
control character shows as its escape, ``\x1b``, in the email and on a terminal alike."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import textwrap
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

from tracker import __version__, formats
from tracker.digest.content import HITS_CHART, MOVE_THRESHOLD, Digest, Line
from tracker.formats import n_of, percent, record
from tracker.registry.labels import label
from tracker.scoreboard import level
from tracker.textsafe import visible

TEMPLATES = Path(__file__).parent / "templates"
TEXT_WIDTH = 78
NONE = "–"  # en dash: no value

SCOREBOARD_KEY = (
    "Expected hit rate: calls right plus the chances of those open, of the calls resolved "
    "or with a chance; equal rates rank the larger n first. Unpriced: open calls with no "
    "chance (no data, or awaiting a manual resolution), left out of the rate. R/W: right and "
    "wrong, decided by data or by hand. Brier: the calls taken as certain, then the price on "
    "the day of the call (lower is better), over resolved priced calls. n: the calls behind "
    "a figure."
)

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

STATUS_LABELS = {
    "right": "Right",
    "wrong": "Wrong",
    "on_track": "On track",
    "off_track": "Off track",
    "no_data": "No data",
    "open": "Open",
    "void": "Void",
}
# (text colour, background tint): the label is always written out, colour only helps.
STATUS_COLOURS = {
    "right": ("#116329", "#dafbe1"),
    "wrong": ("#a40e26", "#ffebe9"),
    "on_track": ("#0f5132", "#d1e7dd"),
    "off_track": ("#7d4e00", "#fff3cd"),
    "no_data": ("#57606a", "#eaeef2"),
    "open": ("#0550ae", "#ddf4ff"),
    "void": ("#6639ba", "#fbefff"),
}
LINE_COLOURS = {  # the same hues, strong enough for a thin chart line
    "right": "#1a7f37",
    "wrong": "#cf222e",
    "on_track": "#116329",
    "off_track": "#bf8700",
    "no_data": "#8c959f",
    "open": "#0969da",
    "void": "#8250df",
}
# A colour for each person's line in the expected-hits chart, told apart also by people
# who cannot tell red from green; given in order of name, so a person keeps theirs.
PERSON_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
                  "#6a3d9a", "#1f2328")


def person_colour(index: int) -> str:
    return PERSON_COLOURS[index % len(PERSON_COLOURS)]


# ---- formatting, used as Jinja filters (those shared with the command line are in ----
# ---- tracker/formats.py; here they write NONE for no value) ----------------------------

def long_date(day: date | None) -> str:
    """'Wednesday 25 November 2026' (fixed English names, whatever the locale)."""
    if day is None:
        return NONE
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def pct(fraction: float | None) -> str:
    """A probability or a rate as a whole percentage: '62%', or '–'."""
    return percent(fraction, NONE)


def points(change: float | None) -> str:
    """A change of probability in signed percentage points: '+7', '-12', '0', or '–'."""
    if change is None:
        return NONE
    whole = round(100 * change)
    return "0" if whole == 0 else f"{whole:+d}"


def brier(call: float | None, price: float | None) -> str:
    """The calls' mean Brier score, then the price's: '0.25/0.18', or '–'."""
    return formats.brier(call, price, NONE)


def status_label(status: str | None) -> str:
    if status is None:
        return NONE
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def status_colour(status: str | None) -> tuple[str, str]:
    return STATUS_COLOURS.get(status or "", STATUS_COLOURS["no_data"])


def previous_probability(line: Line) -> float | None:
    """What the last digest showed: now minus the change since then."""
    if line.probability is None or line.change_since_last is None:
        return None
    return line.probability - line.change_since_last


def ljust(value, width: int) -> str:
    return str(value).ljust(width)


def rjust(value, width: int) -> str:
    return str(value).rjust(width)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters (at least one, possibly empty)."""
    return textwrap.wrap(" ".join(str(text).split()), width, break_long_words=True) or [""]


def block(text: str, indent: int = 0, first: str = "", width: int = TEXT_WIDTH) -> str:
    """A wrapped paragraph indented by ``indent``, its first line starting with ``first``
    (padded to the indent); no trailing newline."""
    lines = wrap(text, width - indent)
    head = first.ljust(indent) if len(first) < indent or not first else first + " "
    return "\n".join(((head if i == 0 else " " * indent) + line).rstrip()
                     for i, line in enumerate(lines))


def row(cells: list, widths: list[int], align: str, indent: int = 2) -> str:
    """One table row of fixed-width columns, two spaces apart. ``align`` holds one letter
    per column: l(eft), r(ight), or w (left, wrapped onto further lines: the others stay
    on the first). No trailing newline."""
    cells = [str(c) for c in cells]
    extra: list[tuple[int, str]] = []
    out = []
    for i, (cell, width, how) in enumerate(zip(cells, widths, align, strict=True)):
        if how == "w":
            parts = wrap(cell, width)
            cell, extra = parts[0], [(i, p) for p in parts[1:]]
        out.append(cell.rjust(width) if how == "r" else cell.ljust(width))
    lines = [" " * indent + "  ".join(out)]
    for column, text in extra:
        offset = indent + sum(w + 2 for w in widths[:column])
        lines.append(" " * offset + text)
    return "\n".join(line.rstrip() for line in lines)


# ---- the environment -------------------------------------------------------------------

class QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's cache of compiled templates, in its own folder for this user under the
    system's temporary folder (0700, checked to be the user's own). A cache that cannot
    be written is no cache: the template is compiled, as without one."""

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full disk, a folder gone: compiled again next time
            pass


def _bytecode() -> FileSystemBytecodeCache | None:
    """Compiling digest.html is one of the slowest steps of a preview, and loading it
    compiled one of the quickest. Jinja keys a compiled template by its name and
    source; what else changes the code it compiles to (the environment's options, set
    here) is added to the key: this module's source and the tracker version."""
    source = Path(__file__).read_bytes() + __version__.encode()
    key = hashlib.sha256(source).hexdigest()
    try:
        return QuietBytecodeCache(pattern=f"tracker-{key[:16]}-%s.cache")
    except (OSError, RuntimeError):  # no temporary folder of the user's own
        return None


def environment(compiled: BytecodeCache | None = None) -> Environment:
    """The templates' environment; ``compiled``: where compiled templates are kept."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        bytecode_cache=compiled,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        long_date=long_date, pct=pct, points=points, status_label=status_label,
        ljust=ljust, rjust=rjust, wrap=wrap, block=block,
    )
    env.globals.update(
        n_of=n_of, brier=brier, record=record, status_colour=status_colour,
        previous_probability=previous_probability, row=row,
    )
    return env


ENV = environment(_bytecode())


# ---- what the templates read -----------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def leader_sentence(digest: Digest) -> str:
    """Who is winning, in one sentence: ranked by expected hit rate, never by a count."""
    board = digest.scoreboard
    if not board:
        return "No scored predictions yet."
    top = board[0]
    if top.expected_hit_rate is None:
        return "No scored call is resolved or priced yet."
    at = f"an expected hit rate of {pct(top.expected_hit_rate)}"
    tied = [p.who for p in board if level(p, top)]
    if len(tied) > 1:
        names = ", ".join(tied[:-1]) + " and " + tied[-1]
        return f"{names} are level at {at} (n={top.rate_n} each)."
    tally = f"{top.right} right, {top.wrong} wrong, {top.open} open"
    if top.unpriced:
        tally += f" ({top.unpriced} unpriced)"
    return f"{top.who} leads with {at} {n_of(top.rate_n)}: {tally}."


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _changes(digest: Digest, moved: str) -> list[str]:
    """'2 resolved', '1 status change', '3 moved...': the counts both summaries lead with."""
    parts = []
    if digest.resolved:
        parts.append(f"{len(digest.resolved)} resolved")
    if digest.flips:
        parts.append(_count(len(digest.flips), "status change", "status changes"))
    if digest.movers:
        parts.append(f"{len(digest.movers)} {moved}")
    return parts


def change_summary(digest: Digest) -> str:
    """What moved, in one sentence."""
    parts = _changes(digest, f"moved past {_threshold_points()} points")
    if digest.previous_day is None:
        return "This is the first digest: nothing to compare with yet."
    since = f"since your digest of {long_date(digest.previous_day)}"
    if not parts:
        return f"Nothing resolved, changed status or moved past {_threshold_points()} points {since}."
    return ", ".join(parts) + f" {since}."


def _threshold_points() -> int:
    return round(100 * MOVE_THRESHOLD)


def footer_sentence(digest: Digest) -> str:
    if digest.previous_day is None:
        return (f"This is the first digest, so no moves are measured yet; from the next one, "
                f"a move is listed past {_threshold_points()} points.")
    return (f"Moves are measured against the digest of {long_date(digest.previous_day)}; "
            f"a move is listed past {_threshold_points()} points.")


def _open_by_person(digest: Digest) -> list[tuple[str, list[Line]]]:
    """Open predictions grouped by person, people in scoreboard order."""
    order = [p.who for p in digest.scoreboard]
    groups: dict[str, list[Line]] = {}
    for line in digest.open:
        groups.setdefault(line.who, []).append(line)
    people = [w for w in order if w in groups] + sorted(w for w in groups if w not in order)
    return [(who, groups[who]) for who in people]


def _chart_at(digest: Digest) -> dict[str, str]:
    """Each chart is drawn once, in the first section that lists its prediction."""
    at: dict[str, str] = {}
    for section, lines in (("resolved", digest.resolved), ("flips", digest.flips),
                           ("movers", digest.movers)):
        for line in lines:
            at.setdefault(line.id, section)
    return at


def _local(digest: Digest):
    zone = ZoneInfo(digest.timezone)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return NONE
        if moment.tzinfo is not None:
            moment = moment.astimezone(zone)
        return f"{DAYS[moment.weekday()][:3]} {moment.day} {MONTHS[moment.month - 1][:3]} " \
               f"{moment:%H:%M}"

    return when


def subject(digest: Digest) -> str:
    """'tracker 2026-11-25: 2 resolved, 3 moved — Chamath leads'."""
    parts = _changes(digest, "moved")
    if digest.failing:
        parts.append(_count(len(digest.failing), "source failing", "sources failing"))
    if not parts:
        parts.append("first digest" if digest.previous_day is None else "no big moves")
    text = f"tracker {digest.day.isoformat()}: {', '.join(parts)}"
    board = digest.scoreboard
    if board and board[0].expected_hit_rate is not None:
        tied = len(board) > 1 and level(board[0], board[1])
        text += " — " + ("level at the top" if tied else f"{_one_line(board[0].who)} leads")
    return visible(_one_line(text))


def shown(value):
    """A copy of ``value`` (a digest, its lines, lists and dicts of them) with every
    string made visible: names, claims, explanations and errors are untrusted."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, list | tuple):
        return type(value)(shown(item) for item in value)
    if isinstance(value, dict):
        return {shown(key): shown(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: shown(getattr(value, f.name))
                                             for f in dataclasses.fields(value)
                                             if f.init and f.name not in NO_TEXT})
    return value


# Fields that hold no text, only numbers and times: a chart's history is hundreds of
# (time, probability) pairs a claim, and copying them cost more than the rest.
NO_TEXT = frozenset({"history"})


def claim_link(public_url: str) -> Callable[[str], str]:
    """Each claim's page under ``public_url`` (``[web] public_url``); "" when unset."""
    if not public_url:
        return lambda _pid: ""
    return lambda pid: f"{public_url.rstrip('/')}/p/{quote(pid, safe='')}"


def hits_legend(digest: Digest) -> list[dict]:
    """The expected-hits chart's legend: a row a person, in the scoreboard's order, with
    the colour their line is drawn in (given by name, as on the web page)."""
    if digest.hits is None:
        return []
    colours = {line.who: person_colour(i) for i, line in enumerate(digest.hits.lines)}
    lines = {line.who: line for line in digest.hits.lines}
    order = [p.who for p in digest.scoreboard if p.who in lines]
    order += [who for who in lines if who not in order]
    return [{"who": who, "colour": colours[who], "now": lines[who].now,
             "claims": lines[who].claims, "resolved": lines[who].resolved} for who in order]


def _hits_alt(legend: list[dict]) -> str:
    figures = "; ".join(f"{row['who']} {row['now']:.2f}" for row in legend)
    return f"Expected hits of each person over the year, now: {figures}"


def _context(digest: Digest, chart_src: dict[str, str], public_url: str = "") -> dict:
    digest = shown(digest)
    legend = hits_legend(digest)
    return {
        "claim_url": claim_link(public_url),
        "d": digest,
        "subject": subject(digest),
        "date_words": long_date(digest.day),
        "leader": leader_sentence(digest),
        "summary": change_summary(digest),
        "since": (f"since your digest of {long_date(digest.previous_day)}"
                  if digest.previous_day else "first digest"),
        "footer": footer_sentence(digest),
        "movers": digest.movers,  # biggest first (gather_digest sorts them)
        "open_groups": _open_by_person(digest),
        "chart_at": _chart_at(digest),
        "chart_src": chart_src,
        "hits_chart": HITS_CHART,
        "hits_legend": legend,
        "hits_alt": _hits_alt(legend),
        "when": _local(digest),
        "threshold": _threshold_points(),
        "width": TEXT_WIDTH,
        "who_width": max([len(p.who) for p in digest.scoreboard] + [8]),
        "scoreboard_key": SCOREBOARD_KEY,
        "series_name": lambda sid: digest.series_names.get(sid) or label(sid),
    }


def render_text(digest: Digest, public_url: str = "") -> str:
    """The email's text; ``public_url``: where the web pages are, to link each claim to."""
    return ENV.get_template("digest.txt").render(_context(digest, {}, public_url))


def render_html(digest: Digest, chart_cids: dict[str, str], public_url: str = "") -> str:
    """The email's HTML; ``chart_cids``: prediction id -> Content-ID (no angle brackets)
    of its chart, attached to the same message."""
    return ENV.get_template("digest.html").render(
        _context(digest, {pid: f"cid:{cid}" for pid, cid in chart_cids.items()}, public_url))


def preview_html(digest: Digest, charts: dict[str, bytes], public_url: str = "") -> str:
    """The same HTML with the charts inlined as data: URIs, to open from a local file.
    Only for previews: mail clients block data: images."""
    return ENV.get_template("digest.html").render(_context(digest, {
        pid: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for pid, png in charts.items()
    }, public_url))
