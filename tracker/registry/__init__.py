"""The prediction registry: schema, loader and the bundled 2026 registry."""

from tracker.registry.loader import Registry, RegistryError, load_registry
from tracker.registry.schema import Prediction

__all__ = ["Prediction", "Registry", "RegistryError", "load_registry"]
