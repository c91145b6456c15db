"""What ``tracker status`` shows: each prediction with its newest snapshot. Plain data in,
rows out, so the full CLI and the quick path (tracker/quick.py) print the same."""

from __future__ import annotations

from typing import Any

NOT_EVALUATED = "not evaluated yet: run `tracker poll`"


def prediction_summary(prediction) -> dict[str, str]:
    """The registry fields a status row shows, as JSON-ready text."""
    return {
        "id": prediction.id,
        "who": prediction.who,
        "claim": prediction.claim,
        "kind": prediction.kind,
        "made_on": prediction.made_on.isoformat(),
        "deadline": prediction.deadline.isoformat(),
    }


def status_rows(predictions: list[dict[str, str]], snapshots: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per prediction, in registry order; ``snapshots`` maps a prediction id to its
    newest snapshot (anything with the Snapshot columns as attributes)."""
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
