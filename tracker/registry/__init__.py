"""The prediction registry: schema, loader and the bundled 2026 registry.

The loader and schema (pydantic) are imported when first asked for, so that a module
that needs only ``tracker.registry.labels`` (the lean read path) does not pay for them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.registry.loader import Registry, RegistryError, load_registry
    from tracker.registry.schema import Prediction

__all__ = ["Prediction", "Registry", "RegistryError", "load_registry"]

_HOMES = {"Registry": "loader", "RegistryError": "loader", "load_registry": "loader",
          "Prediction": "schema"}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"tracker.registry.{_HOMES[name]}"), name)
