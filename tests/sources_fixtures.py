"""Which recorded payload stands for what, and a config pointing every source at a
replay server. The payloads and where each came from: tests/fixtures/*/SOURCES.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tests.replay import FIXTURES, ReplayServer, Reply
from tracker.sources.edgar import submissions_path
from tracker.sources.yahoo import ticker_of

if TYPE_CHECKING:
    from tracker.registry import Registry

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


def any_cik(cik: str) -> Reply:
    """SpaceX's recorded EDGAR submissions, its cik set to the one asked for."""
    spacex = json.loads((FIXTURES / "edgar" / "submissions_CIK0001181412_spacex.json").read_text())
    return Reply(json.dumps({**spacex, "cik": f"{int(cik):010d}"}).encode())


def any_slug(query: dict[str, list[str]]) -> Reply:
    """The recorded Xi Jinping market, once per slug asked for, its slug set to that one."""
    xi = json.loads((FIXTURES / "polymarket" / "markets_open_xi.json").read_text())[0]
    return Reply(json.dumps([{**xi, "slug": slug} for slug in query.get("slug", [])]).encode())


def serve_registry(server: ReplayServer, registry: Registry) -> None:
    """Routes answering every series ``registry`` needs with a recorded payload of its
    source: every Yahoo symbol the BATS.L bars, every FRED id the NASDAQCOM CSV, every
    Polymarket slug the Xi Jinping market, every EDGAR CIK SpaceX's submissions. Each kind
    then copes with real payloads end to end; the numbers are not those series' own."""
    for series_id in registry.series_ids():
        source, symbol = series_id.split(":", 1)
        if source == "yahoo":  # a total-return symbol is asked for by its plain ticker
            server.add(f"/v8/finance/chart/{ticker_of(symbol)[0]}", Reply.file(YAHOO_CHART[1]))
        if source == "edgar":
            server.add(submissions_path(symbol), any_cik(symbol))
    server.add("/graph/fredgraph.csv", Reply.file("fred/NASDAQCOM_DATE_dot_missing.csv"))
    server.add("/markets", any_slug)


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
