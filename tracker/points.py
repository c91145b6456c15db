"""The value every layer shares: one observation of a series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Point:
    """One observation. Daily bars are stamped 00:00 UTC of their trading date."""

    ts: datetime
    value: float
    high: float | None = None
    low: float | None = None
