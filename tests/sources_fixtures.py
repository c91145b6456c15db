"""Which recorded payload stands for what, and a config pointing every source at a
replay server. The payloads and where each came from: tests/fixtures/*/SOURCES.md."""

from __future__ import annotations

from pathlib import Path

# A daily chart to poll where any real series will do: (symbol, fixture under tests/fixtures).
YAHOO_CHART = ("BATS.L", "yahoo/BATS.L_1d_period.json")


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
        f'[sources.coingecko]\nbase_url = "{base_url}"\n\n'
        + predictions
    )
    return path
