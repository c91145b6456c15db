"""What ``tracker status`` shows: each prediction with its newest snapshot. Plain data in,
rows out, so the full CLI and the lean path (tracker/quick/) print the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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


def status_text(rows: list[dict[str, Any]], colour: bool = False, width: int | None = None) -> str:
    """The status table. Claims, names and explanations are untrusted: each is made
    visible (tracker/textsafe.py) before the table places it."""
    from tracker.formats import percent, when
    from tracker.textsafe import visible
    from tracker.views.table import render

    cells = [
        [visible(row["who"]), _claim_cell(row),
         [[(visible(row["status"]), STATUS_STYLE.get(row["status"], ""))]],
         percent(row["probability"]), _value(row["value"], row["side"]), when(row["as_of"])]
        for row in rows
    ]
    return render(COLUMNS, cells, right=("P", "Value"), colour=colour, width=width)


def _claim_cell(row: dict[str, Any]) -> list:
    """The claim; for a part of a composite, which one; then the id and explanation."""
    from tracker.textsafe import visible

    lines = [[(visible(row["claim"]), "")]]
    if row["part_of"]:
        lines.append([(visible(f"part of {', '.join(row['part_of'])}"), "italic")])
    lines.append([(f"{visible(row['id'])}: {visible(row['explanation'])}", "dim")])
    return lines


def _value(value: float | None, side: str | None) -> str:
    """The headline value; for a market, the price of the side claimed, named: 'no 86%'."""
    from tracker.formats import number, percent

    if side is None or value is None:
        return number(value)
    return f"{side} {percent(side_price(value, side))}"
