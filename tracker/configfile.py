"""Which config file applies: ``--config PATH``, then ``$TRACKER_CONFIG``, then
``./config.toml``. Kept apart from the validation in tracker.config (pydantic), so the
quick ``tracker status --json`` path can ask without importing it."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG_NAME = "config.toml"
CONFIG_ENV = "TRACKER_CONFIG"
DATABASE_URL_ENV = "TRACKER_DATABASE_URL"


def find_config(explicit: str | os.PathLike | None) -> tuple[Path | None, bool]:
    """Return (path, required). An explicit or $TRACKER_CONFIG path must exist."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env), True
    default = Path(DEFAULT_CONFIG_NAME)
    return (default if default.exists() else None), False
