"""The fault suite's record: each fault test reports what it tried and what survived,
and scripts/reliability_report.py turns a run's records into docs/reliability.md.

A test calls ``fault_result(area, fault, target, survived=..., lost=..., duplicates=...)``
once per fault it injects. With $TRACKER_FAULT_RESULTS set, the records of the whole run
are written there as JSON when the session ends.

A plugin (tests/conftest.py names it) rather than tests/faults/conftest.py: under
pytest-xdist the records are made in the workers and written by the controller, which
loads a conftest below tests/ only when it is named on the command line."""

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
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: its records go to the controller
        workeroutput["fault_records"] = _RECORDS
        return
    path = os.environ.get("TRACKER_FAULT_RESULTS")
    if path and _RECORDS:
        Path(path).write_text(json.dumps(_RECORDS, indent=1))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller, as each worker ends: keep the records it made."""
    _RECORDS.extend(getattr(node, "workeroutput", {}).get("fault_records", []))
