"""The quick path's cache (tracker/quick.py) answers `status --json` without reading the
registry: it must never answer with a claim that is not the registry's. An edit that
keeps a file's size and time, a cache file another user planted in a shared folder, or
one that others may write, must all send the command to the full CLI. And what the
tracker writes (the cache, a new SQLite database) is readable by its owner only."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from db.engine import open_database
from tests.test_quick import MY_REGISTRY, setup, tracker  # noqa: F401 (setup is a fixture)
from tracker.quick import quick_answer

AREA = "quick-path cache"
NOBODY = 65534


def cache_files() -> list[Path]:
    return sorted(Path(os.environ["XDG_CACHE_HOME"], "tracker").glob("status-*.json"))


def claims(answer: str | None) -> set[str]:
    return {row["claim"] for row in json.loads(answer)} if answer else set()


def test_an_edit_that_keeps_size_and_time_is_seen(setup, fault_result):  # noqa: F811
    registry = setup / "mine.toml"
    assert tracker("status", "--json", cwd=setup).returncode == 0
    before = registry.stat()
    registry.write_text(MY_REGISTRY.replace("Gold above 1", "Gold above 9"))  # same size
    os.utime(registry, ns=(before.st_atime_ns, before.st_mtime_ns))
    answer = quick_answer(["status", "--json"])
    survived = "Gold above 1" not in claims(answer)
    fault_result(area=AREA, fault="registry edited, same size and mtime", target="status --json",
                 survived=survived, note="stale claim served" if not survived else
                 "quick path stepped aside" if answer is None else "new claim served")
    assert survived


def _plant(path: Path, how: str) -> None:
    """Change the cached claim, as someone else's file would, and give the file away."""
    path.write_text(path.read_text().replace("Gold above 1", "Planted claim"))
    if how == "owned by another user":
        os.chown(path, NOBODY, NOBODY)
    else:
        path.chmod(0o666)


@pytest.mark.parametrize("how", ["owned by another user", "writable by others"])
def test_a_planted_cache_file_is_not_read(setup, how, fault_result):  # noqa: F811
    if how == "owned by another user" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    assert tracker("status", "--json", cwd=setup).returncode == 0
    (cache,) = cache_files()
    _plant(cache, how)
    answer = quick_answer(["status", "--json"])
    survived = "Planted claim" not in claims(answer)
    fault_result(area=AREA, fault=f"cache file {how}", target="status --json",
                 survived=survived, note="planted claim served" if not survived
                 else "ignored: the full CLI answers")
    assert survived


def test_the_cache_and_a_new_database_are_the_owners_alone(setup, tmp_path, fault_result):  # noqa: F811
    assert tracker("status", "--json", cwd=setup).returncode == 0
    (cache,) = cache_files()
    database = tmp_path / "new" / "fresh.db"
    open_database(f"sqlite:///{database}").dispose()
    modes = {"cache file": stat.S_IMODE(cache.stat().st_mode),
             "cache folder": stat.S_IMODE(cache.parent.stat().st_mode),
             "new SQLite database": stat.S_IMODE(database.stat().st_mode)}
    wanted = {"cache file": 0o600, "cache folder": 0o700, "new SQLite database": 0o600}
    for what, mode in modes.items():
        fault_result(area=AREA, fault="another local user reads it", target=what,
                     survived=mode == wanted[what], note=f"mode {mode:o}")
    assert modes == wanted
