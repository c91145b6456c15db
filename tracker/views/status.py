"""What ``tracker status`` shows: each prediction with its newest snapshot. Plain data in,
rows out, so the full CLI and the lean path (tracker/quick/) print the same."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from tracker.verdicts import SETTLED

if TYPE_CHECKING:
    from db.reads import SnapshotRow
    from tracker.registry import Registry

NOT_EVALUATED = "not evaluated yet: run `tracker poll`"


def prediction_summary(prediction, part_of: list[str] | None = None) -> dict[str, Any]:
    """The registry fields a status row shows, JSON-ready. ``side``: the side a market
    claim took (None for other kinds); ``part_of``: the composites an unscored part
    belongs to (``Registry.part_of``)."""
    return {
        "id": prediction.id,
        "who": prediction.who,
        "claim": prediction.claim,
        "kind": prediction.kind,
        "made_on": prediction.made_on.isoformat(),
        "deadline": prediction.deadline.isoformat(),
        "side": getattr(prediction, "side", None),
        "part_of": list(part_of or []),
    }


def summaries(registry: Registry) -> list[dict[str, Any]]:
    """Every prediction's summary, in registry order."""
    return [prediction_summary(p, registry.part_of.get(p.id)) for p in registry]


def side_price(yes_price: float | None, side: str | None) -> float | None:
    """A market's price of the side claimed: the yes price, or one minus it for "no"."""
    if yes_price is None:
        return None
    return 1.0 - yes_price if side == "no" else yes_price


def status_rows(predictions: list[dict[str, Any]],
                snapshots: Mapping[str, SnapshotRow]) -> list[dict[str, Any]]:
    """One row per prediction, in registry order; ``snapshots`` maps a prediction id to its
    newest snapshot (``db.reads.latest_snapshots``). For a market,
    ``value`` stays the market's yes price; ``side`` says which side was claimed."""
    rows = []
    for summary in predictions:
        snap = snapshots.get(summary["id"])
        rows.append(
            summary
            | {
                "status": snap.status if snap else "no_data",
                "probability": snap.probability if snap else None,
                "value": snap.value if snap else None,
                "as_of": snap.value_at if snap else None,
                "evaluated_at": snap.at if snap else None,
                "explanation": snap.explanation if snap else NOT_EVALUATED,
            }
        )
    return rows


# ---- which rows: --who, --status, --kind, --open ------------------------------------------

STATUSES = ("right", "wrong", "on_track", "off_track", "no_data", "open", "void")


class Selection(NamedTuple):
    """Which predictions `status` lists; empty fields select all."""

    who: str | None = None
    statuses: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    open_only: bool = False


def listed(values: Iterable[str]) -> frozenset[str]:
    """An option given repeatedly, or as a comma list, or both: its values."""
    return frozenset(part.strip() for value in values for part in value.split(",")
                     if part.strip())


def statuses_of(values: Iterable[str]) -> frozenset[str]:
    """The statuses asked for; ValueError naming an unknown one."""
    asked = listed(values)
    for status in sorted(asked - set(STATUSES)):
        raise ValueError(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
    return asked


def matches_who(name: str, who: str) -> bool:
    """``name`` is the person's name, or one word of it, in any case: "sacks", "David
    Sacks"."""
    name, who = name.casefold().strip(), who.casefold()
    return name == who or name in who.split()


def select(rows: list[dict[str, Any]], selection: Selection) -> list[dict[str, Any]]:
    """The rows ``selection`` asks for, in their order. ValueError when ``--who`` names
    no one who made a prediction (a misspelt name, not an empty list)."""
    if selection.who is not None and not any(matches_who(selection.who, row["who"])
                                             for row in rows):
        people = ", ".join(sorted({row["who"] for row in rows}))
        raise ValueError(f"no predictions by {selection.who!r} (people: {people})")
    return [
        row for row in rows
        if (selection.who is None or matches_who(selection.who, row["who"]))
        and (not selection.statuses or row["status"] in selection.statuses)
        and (not selection.kinds or row["kind"] in selection.kinds)
        and not (selection.open_only and row["status"] in SETTLED)
    ]


# ---- as text -----------------------------------------------------------------------------

STATUS_STYLE = {
    "right": "bold green",
    "wrong": "bold red",
    "on_track": "green",
    "off_track": "yellow",
    "no_data": "dim",
    "open": "cyan",
    "void": "magenta",
}
COLUMNS = ("Who", "Claim", "Status", "P", "Value", "As of")
COMPACT = ("ID", "Status", "P", "Claim")
NOTHING_SELECTED = "no predictions match\n"
HINT = "`tracker show ID`: one in full; --wide: who, explanation, value, as of\n"


def compact_text(rows: list[dict[str, Any]], colour: bool = False,
                 width: int | None = None) -> str:
    """A line per prediction: its id whole (what `tracker show` takes), status,
    probability and as much of its claim as the width leaves (cut with '…'). Ids and
    claims are untrusted: made visible (tracker/textsafe.py) first."""
    from tracker.formats import percent
    from tracker.textsafe import visible
    from tracker.views.table import cut, styled, terminal_width, width_of

    if not rows:
        return NOTHING_SELECTED
    width = width or terminal_width()
    ids = [visible(row["id"]) for row in rows]
    id_width = max(width_of(text) for text in [COMPACT[0], *ids])
    status_width = max(len(status) for status in STATUSES)
    room = width - id_width - status_width - 4 - 3 * 2  # "100%", three gaps of two

    def line(id_: str, status: tuple[str, str], p: str, claim: str, style: str = "") -> str:
        gap = " " * (id_width - width_of(id_))
        shown = (f"{styled(id_, style, colour)}{gap}  "
                 f"{styled(status[0].ljust(status_width), status[1] or style, colour)}  "
                 f"{styled(p.rjust(4), style, colour)}  {styled(cut(claim, room), style, colour)}")
        return shown.rstrip() + "\n"

    out = [line(COMPACT[0], (COMPACT[1], ""), COMPACT[2], COMPACT[3], "bold")]
    for id_, row in zip(ids, rows):
        status = visible(row["status"])
        out.append(line(id_, (status, STATUS_STYLE.get(row["status"], "")),
                        percent(row["probability"]), visible(row["claim"])))
    return "".join(out) + styled(cut(HINT.rstrip("\n"), width), "dim", colour) + "\n"


def status_text(rows: list[dict[str, Any]], colour: bool = False, width: int | None = None) -> str:
    """The wide status table. Claims, names and explanations are untrusted: each is made
    visible (tracker/textsafe.py) before the table places it."""
    from tracker.formats import percent, when
    from tracker.textsafe import visible
    from tracker.views.table import render

    cells = [
        [visible(row["who"]), _claim_cell(row),
         [[(visible(row["status"]), STATUS_STYLE.get(row["status"], ""))]],
         percent(row["probability"]), _value(row), when(row["as_of"])]
        for row in rows
    ]
    if not rows:
        return NOTHING_SELECTED
    return render(COLUMNS, cells, right=("P", "Value"), colour=colour, width=width,
                  keep=("Status", "P", "Value", "As of"))


def _claim_cell(row: dict[str, Any]) -> list:
    """The claim; for a part of a composite, which one; then the id and explanation."""
    from tracker.textsafe import visible

    lines = [[(visible(row["claim"]), "")]]
    if row["part_of"]:
        lines.append([(visible(f"part of {', '.join(row['part_of'])}"), "italic")])
    lines.append([(f"{visible(row['id'])}: {visible(row['explanation'])}", "dim")])
    return lines


def _value(row: dict[str, Any]) -> str:
    """The headline value; for a market, the price of the side claimed, named: 'no 86%';
    in the unit its kind gives it where it has one (an outperform's spread: '+5.2 pp')."""
    from tracker.formats import number, percent
    from tracker.units import headline_unit, show

    value, side = row["value"], row["side"]
    if value is not None and (unit := headline_unit(row["kind"])):
        return show(value, unit)
    if side is None or value is None:
        return number(value)
    return f"{side} {percent(side_price(value, side))}"
