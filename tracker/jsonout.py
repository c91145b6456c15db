"""The JSON every ``--json`` option prints: indented, timestamps in ISO 8601."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=_default)


def _default(value: Any):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
