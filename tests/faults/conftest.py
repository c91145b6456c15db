"""The fault suite's record: each fault test reports what it tried and what survived,
and scripts/reliability_report.py turns a run's records into docs/reliability.md.

A test calls ``fault_result(area, fault, target, survived=..., lost=..., duplicates=...)``
once per fault it injects. With $TRACKER_FAULT_RESULTS set, the records of the whole run
are written there as JSON when the session ends."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_RECORDS: list[dict] = []


@pytest.fixture
def fault_result(request):
    def record(area: str, fault: str, target: str, *, survived: bool, lost: int = 0,
               duplicates: int = 0, note: str = "") -> None:
        _RECORDS.append({
            "area": area, "fault": fault, "target": target, "survived": bool(survived),
            "lost": int(lost), "duplicates": int(duplicates), "note": note,
            "test": request.node.nodeid,
        })

    return record


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("TRACKER_FAULT_RESULTS")
    if path and _RECORDS:
        Path(path).write_text(json.dumps(_RECORDS, indent=1))
