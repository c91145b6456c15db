"""Which recorded payload stands for what, and a config pointing every source at a
replay server. The payloads and where each came from: tests/fixtures/*/SOURCES.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.replay import FIXTURES, Reply

# A daily chart to poll where any real series will do: (symbol, fixture under tests/fixtures).
YAHOO_CHART = ("BATS.L", "yahoo/BATS.L_1d_period.json")


def market(pid: str, series: str, side: str = "yes", made_on: str = "2026-01-10") -> str:
    """A ``market`` prediction as a registry TOML table."""
    return (
        f'[[prediction]]\nid = "{pid}"\nwho = "Tester"\nmade_on = {made_on}\n'
        f'claim = "{pid}"\nkind = "market"\nseries = "{series}"\nside = "{side}"\n\n'
    )


def composite(pid: str, kind: str, parts: list[str], n: int | None = None) -> str:
    """An ``at_least`` / ``all_of`` / ``any_of`` prediction as a registry TOML table."""
    count = f"n = {n}\n" if n else ""
    return (
        f'[[prediction]]\nid = "{pid}"\nwho = "Tester"\nmade_on = 2026-01-10\n'
        f'claim = "{pid}"\nkind = "{kind}"\n{count}of = {json.dumps(parts)}\n\n'
    )


def gamma_markets(*files: str):
    """A ``/markets`` route answering as Gamma does: a JSON array of the recorded market
    objects (from these files under tests/fixtures/polymarket) whose slug was asked for."""
    pool = [m for name in files for m in json.loads((FIXTURES / "polymarket" / name).read_text())]

    def answer(query: dict[str, list[str]]) -> Reply:
        wanted = set(query.get("slug", []))
        return Reply(json.dumps([m for m in pool if m["slug"] in wanted]).encode())

    return answer


def replay_config(
    tmp_path: Path,
    base_url: str,
    symbols: list[str] = (),
    fred_ids: list[str] = (),
    predictions: str | None = None,
) -> Path:
    """A config whose sources all point at ``base_url``, with no bundled registry.

    Without ``predictions``, one far-off threshold per symbol makes the poll fetch it.
    """
    if predictions is None:
        predictions = "".join(
            f'[[prediction]]\nid = "watch-{i}"\nwho = "Test"\nmade_on = 2020-01-01\n'
            f'claim = "watch {sid}"\nkind = "threshold"\nseries = "{sid}"\n'
            f'target = 1e12\ndirection = "above"\ndeadline = 2030-12-31\n\n'
            for i, sid in enumerate([f"yahoo:{s}" for s in symbols] + [f"fred:{f}" for f in fred_ids])
        )
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n\n'
        f'[registry]\nbundled = false\n\n'
        f'[http]\nretries = 0\ntimeout = "10s"\n\n'
        f'[sources.yahoo]\nbase_url = "{base_url}"\n\n'
        f'[sources.fred]\nbase_url = "{base_url}"\napi_url = "{base_url}"\n'
        f'api_key_env = "TRACKER_TEST_NO_SUCH_KEY"\n\n'
        f'[sources.polymarket]\ngamma_url = "{base_url}"\nclob_url = "{base_url}"\n\n'
        f'[sources.kalshi]\nbase_url = "{base_url}"\n\n'
        f'[sources.edgar]\nbase_url = "{base_url}"\nuser_agent = "tracker tests tests@example.com"\n\n'
        f'[sources.coingecko]\nbase_url = "{base_url}"\n\n'
        + predictions
    )
    return path


def copy_database(made: Path, folder: Path) -> None:
    """Copy the SQLite database ``made`` (with a WAL beside it: it holds committed rows too)
    into ``folder`` under the same name, for a test to change a database a module made
    once. No process may have it open."""
    for suffix in ("", "-wal"):
        if Path(f"{made}{suffix}").exists():
            shutil.copy2(f"{made}{suffix}", folder / f"{made.name}{suffix}")
