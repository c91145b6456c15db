"""Data sources: one module per API, each defining one ``SOURCE`` that satisfies the
``Source`` protocol of tracker/sources/base.py, and ``HistorySource`` when it can read
history. Parsing functions in each module are pure, so they are tested on recorded
payloads.

This registry is standard library only and loads no source: the quick path
(tracker/quick/) reads names and groups here, and ``load_source(name)`` imports a
source's module only when it is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from tracker.sources.base import Source


class Registered(NamedTuple):
    module: str  # the module that defines the source's ``SOURCE``
    group: str  # its schedule group: the sources of a group share one poll interval


# source name -> where it is defined, and its schedule group
SOURCES: dict[str, Registered] = {
    "yahoo": Registered("tracker.sources.yahoo", "prices"),
    "fred": Registered("tracker.sources.fred", "macro"),
    "polymarket": Registered("tracker.sources.polymarket", "markets"),
    "kalshi": Registered("tracker.sources.kalshi", "markets"),
    "edgar": Registered("tracker.sources.edgar", "macro"),
}
GROUPS = ("markets", "prices", "macro")


def load_source(name: str) -> Source:
    """The source called ``name``, its module imported on first use (a KeyError when there
    is none)."""
    return import_module(SOURCES[name].module).SOURCE


def group_of(name: str) -> str:
    return SOURCES[name].group
