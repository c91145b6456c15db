"""A stand-in series: when a prediction's ``series`` has no data or is stale and its
``fallback`` is fresh, the fallback is read instead, and the explanation says so
("... (from WTI spot: WTI crude is stale)"). WTI futures fall back to FRED's spot price,
for example, when Yahoo fails for a while."""

from __future__ import annotations

from dataclasses import replace

from tracker.evaluate.result import Evaluation, SeriesInput


def _usable(series: SeriesInput | None) -> bool:
    return series is not None and bool(series.points) and not series.stale


def stand_in(prediction, inputs: dict[str, SeriesInput]) -> tuple[dict[str, SeriesInput], str | None]:
    """The inputs to evaluate with, and why the fallback is used (None when it is not)."""
    fallback = getattr(prediction, "fallback", None)
    if not fallback:
        return inputs, None
    primary, backup = inputs.get(prediction.series), inputs.get(fallback)
    if _usable(primary) or not _usable(backup):
        return inputs, None
    why = "has no data" if primary is None or not primary.points else "is stale"
    name = primary.name if primary else prediction.series
    return {**inputs, prediction.series: backup}, f"from {backup.name}: {name} {why}"


def annotate(result: Evaluation, reason: str, fallback: str) -> Evaluation:
    return replace(
        result,
        explanation=f"{result.explanation} ({reason})",
        inputs={**result.inputs, "used_series": fallback},
    )
