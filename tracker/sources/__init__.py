"""Data sources: one module per API, each turning symbols into points.

Every source module has ``NAME`` and ``async fetch(http, settings, symbols, now)``, where
``symbols`` maps each symbol to the first date we need, and returns a SourceReport.
Parsing functions in each module are pure, so they are tested on recorded payloads.
"""

from __future__ import annotations

from importlib import import_module

# source name -> (module, schedule group). A group shares one poll interval.
SOURCES: dict[str, tuple[str, str]] = {
    "yahoo": ("tracker.sources.yahoo", "prices"),
    "fred": ("tracker.sources.fred", "macro"),
    "polymarket": ("tracker.sources.polymarket", "markets"),
    "kalshi": ("tracker.sources.kalshi", "markets"),
    "edgar": ("tracker.sources.edgar", "macro"),
}
GROUPS = ("markets", "prices", "macro")


def source_module(name: str):
    return import_module(SOURCES[name][0])


def group_of(source: str) -> str:
    return SOURCES[source][1]
