"""Hostile config and registry files: dates outside any calendar the tracker can do
arithmetic with, files that never end (or never open), a database that keeps nothing.
Each one is a single clear line on stderr and exit 2, caught by `tracker check` before
a poll or a digest can trip on it."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from tracker.registry.loader import RegistryError, parse_prediction
from tracker.service.evaluation import needed_since

AREA = "bad config and registry"
MEMORY_LIMIT = 1 << 30  # a reader that does not stop fails fast instead of eating the host

PREDICTION = (
    '[[prediction]]\nid = "p"\nwho = "T"\nclaim = "c"\nkind = "threshold"\n'
    'series = "yahoo:SPY"\ntarget = 1\ndirection = "above"\n'
)
DATES = {
    "made_on = 0001-01-01": ("made_on = 0001-01-01\n", "made_on"),
    "made_on = 9999-12-31": ("made_on = 9999-12-31\n", "made_on"),
    "deadline = 9999-12-31": ("made_on = 2026-01-01\ndeadline = 9999-12-31\n", "deadline"),
    "start = 0001-01-01": ("made_on = 2026-01-01\nstart = 0001-01-01\n", "start"),
}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def check(folder: Path, config: str, timeout: float = 20) -> subprocess.CompletedProcess | None:
    """`tracker check` on this config; None when it did not finish in time."""
    (folder / "config.toml").write_text(config)
    env = {key: value for key, value in os.environ.items()
           if key not in ("TRACKER_CONFIG", "TRACKER_DATABASE_URL")}
    try:
        return subprocess.run(
            [sys.executable, "-m", "tracker.entry", "--config", str(folder / "config.toml"),
             "check"], capture_output=True, text=True, cwd=folder, env=env, timeout=timeout,
            preexec_fn=_limited, check=False)
    except subprocess.TimeoutExpired:
        return None


def one_clean_line(done: subprocess.CompletedProcess | None, *words: str) -> bool:
    if done is None:
        return False
    lines = done.stderr.strip().splitlines()
    return (done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr
            and all(word in lines[0] for word in words))


def record(fault_result, fault: str, target: str, done, survived: bool) -> None:
    if done is None:
        note = "did not finish"
    else:
        note = f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1][:160]}" \
            if done.stderr.strip() else f"exit {done.returncode}, nothing on stderr"
    fault_result(area=AREA, fault=fault, target=target, survived=survived, note=note)


@pytest.mark.parametrize("fault", sorted(DATES))
def test_a_date_out_of_range_is_one_line_naming_the_field(tmp_path, fault, fault_result):
    dates, field = DATES[fault]
    done = check(tmp_path, '[registry]\nbundled = false\n\n' + PREDICTION + dates)
    survived = one_clean_line(done, field, "out of range")
    record(fault_result, fault, "tracker check", done, survived)
    assert survived, done and done.stderr


BASE = {"id": "p", "who": "T", "claim": "c", "made_on": date(2026, 1, 1),
        "direction": "above", "target": 1.0}


@pytest.mark.parametrize(("field", "table"), [
    ("on", BASE | {"kind": "level", "series": "fred:GDP", "on": date(1, 1, 1)}),
    ("meetings", BASE | {"kind": "threshold", "series": "fred:DFF", "step": 0.25,
                         "meetings": [date(9999, 12, 31)]}),
])
def test_release_dates_and_meetings_are_bounded_too(field, table):
    with pytest.raises(RegistryError, match=f"{field}.*out of range"):
        parse_prediction(table, "t.toml", 1)


def test_lookback_from_an_early_start_does_not_overflow():
    early = SimpleNamespace(start=date(1, 1, 1), series_ids=lambda: ["yahoo:SPY"])
    assert needed_since([early])["yahoo:SPY"].year == 1


def _fifo(folder: Path) -> str:
    path = folder / "fifo.toml"
    os.mkfifo(path)
    return str(path)


def _huge(folder: Path) -> str:
    path = folder / "huge.toml"
    path.write_bytes(b"# padding\n" * 600_000)  # 6 MB of valid TOML
    return str(path)


FILES = {
    "registry file /dev/zero": lambda folder: "/dev/zero",
    "registry file a FIFO with no writer": _fifo,
    "registry file of 6 MB": _huge,
}


@pytest.mark.parametrize("fault", sorted(FILES))
def test_a_registry_file_that_is_not_small_and_regular_is_one_line(tmp_path, fault, fault_result):
    name = FILES[fault](tmp_path)
    done = check(tmp_path, f'[registry]\nbundled = false\nfiles = ["{name}"]\n')
    survived = one_clean_line(done, name)
    record(fault_result, fault, "tracker check", done, survived)
    assert survived, done and done.stderr


@pytest.mark.parametrize("fault", ["config file /dev/zero", "config file of 6 MB"])
def test_a_config_file_that_is_not_small_and_regular_is_one_line(tmp_path, fault, fault_result):
    name = "/dev/zero" if "zero" in fault else _huge(tmp_path)
    env = {key: value for key, value in os.environ.items() if key != "TRACKER_DATABASE_URL"}
    try:
        done = subprocess.run([sys.executable, "-m", "tracker.entry", "--config", name, "check"],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=20,
                              preexec_fn=_limited, check=False)
    except subprocess.TimeoutExpired:
        done = None
    survived = one_clean_line(done, name)
    record(fault_result, fault, "tracker check", done, survived)
    assert survived, done and done.stderr


IN_MEMORY = ["sqlite:///", "sqlite:///:memory:", "sqlite+pysqlite:///:memory:",
             "sqlite:///file:db?mode=memory&uri=true"]


@pytest.mark.parametrize("url", IN_MEMORY)
def test_an_in_memory_database_is_refused(tmp_path, url, fault_result):
    done = check(tmp_path, f'[database]\nurl = "{url}"\n[registry]\nbundled = false\n')
    survived = one_clean_line(done, "database.url", "in-memory")
    record(fault_result, f"database url {url}", "tracker check", done, survived)
    assert survived, done and done.stderr
