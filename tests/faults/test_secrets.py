"""Secrets are never shown. A password is planted in every place one can be configured
(the database URL in the config and in $TRACKER_DATABASE_URL, each source's URL, the
SMTP credentials and the FRED key named by the config), then the commands a user runs
are run against a loopback server that fails, and their output, the daemon's log, the
database file and the quick path's cache are searched for the planted strings."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.forked_cli import run_tracker
from tests.replay import ReplayServer, Reply
from tests.test_daemon_reliability import Daemon

AREA = "secrets"
DB_SECRET = "dbpw-in-config-7f3a"
ENV_DB_SECRET = "dbpw-in-env-91c2"
PORT_SECRET = "dbpw-bad-port-5e10"
HUP_SECRET = "dbpw-after-sighup-c4d8"
SOURCE_SECRETS = {name: f"urlpw-{name}-2b6e" for name in
                  ("yahoo", "fred", "polymarket", "kalshi", "edgar", "coingecko")}
FRED_KEY = "fredkey-0d9b"
SMTP_USER, SMTP_PASSWORD = "smtpuser-a81f", "smtppw-33e7"
ENV_SECRETS = {"TRACKER_TEST_FRED_KEY": FRED_KEY, "TRACKER_TEST_SMTP_USER": SMTP_USER,
               "TRACKER_TEST_SMTP_PASSWORD": SMTP_PASSWORD}
EVERY_SECRET = [DB_SECRET, ENV_DB_SECRET, PORT_SECRET, HUP_SECRET, FRED_KEY, SMTP_USER,
                SMTP_PASSWORD, *SOURCE_SECRETS.values()]

PREDICTIONS = "".join(
    f'[[prediction]]\nid = "p-{i}"\nwho = "T"\nmade_on = 2020-01-01\ndeadline = 2030-12-31\n'
    f'claim = "c"\n{body}\n\n'
    for i, body in enumerate([
        'kind = "threshold"\nseries = "yahoo:SPY"\ntarget = 1e12\ndirection = "above"',
        'kind = "threshold"\nseries = "fred:NASDAQCOM"\ntarget = 1e12\ndirection = "above"',
        'kind = "market"\nseries = "polymarket:some-market"\nside = "yes"',
        'kind = "market"\nseries = "kalshi:KXSOME-1"\nside = "yes"',
        'kind = "filing"\nseries = "edgar:1181412"',
    ])
)


def _with_secret(url: str, secret: str, token_only: bool = False) -> str:
    """A password in the URL, or a token alone as the userinfo (``https://TOKEN@host``)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{secret if token_only else 'user:' + secret}@{rest}"


def secret_config(folder: Path, server_url: str, database: str | None = None) -> Path:
    """A config with a password in every source URL and the credentials' variables named;
    Yahoo's URL points at a closed port (cannot reach), the others at a failing server."""
    closed = "http://127.0.0.1:9"
    urls = {name: _with_secret(closed if name == "yahoo" else server_url, secret,
                               token_only=name in ("kalshi", "edgar"))
            for name, secret in SOURCE_SECRETS.items()}
    database = database or f"sqlite:///{folder / 'tracker.db'}"
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database}"\n\n[registry]\nbundled = false\n\n'
        '[http]\nretries = 0\ntimeout = "5s"\n\n'
        f'[sources.yahoo]\nbase_url = "{urls["yahoo"]}"\n\n'
        f'[sources.fred]\nbase_url = "{urls["fred"]}"\napi_url = "{urls["fred"]}"\n'
        'api_key_env = "TRACKER_TEST_FRED_KEY"\n\n'
        f'[sources.polymarket]\ngamma_url = "{urls["polymarket"]}"\n'
        f'clob_url = "{urls["polymarket"]}"\n\n'
        f'[sources.kalshi]\nbase_url = "{urls["kalshi"]}"\n\n'
        f'[sources.edgar]\nbase_url = "{urls["edgar"]}"\nuser_agent = "tests tests@example.com"\n\n'
        f'[sources.coingecko]\nbase_url = "{urls["coingecko"]}"\n\n'
        '[email]\nusername_env = "TRACKER_TEST_SMTP_USER"\n'
        'password_env = "TRACKER_TEST_SMTP_PASSWORD"\n\n'
        + PREDICTIONS
    )
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The credentials' variables set, the cache in the test's folder."""
    for name in ("TRACKER_CONFIG", "TRACKER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name, value in ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def tracker(*args: str, cwd: Path, **extra_env: str) -> subprocess.CompletedProcess:
    """The `tracker` command in a process of its own, forked (tests/forked_cli.py)."""
    return run_tracker(list(args), cwd=cwd, env={**os.environ, **extra_env},
                       main="tracker.entry")


def leaked(text: str) -> list[str]:
    return [secret for secret in EVERY_SECRET if secret in text]


def files_leaked(folder: Path) -> list[str]:
    """Secrets found in any file written under the folder (the database and its journal,
    the quick path's cache), the config that holds them aside."""
    found = set()
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "config.toml":
            data = path.read_bytes()
            found |= {s for s in EVERY_SECRET if s.encode() in data}
    return sorted(found)


def one_clean_line(done: subprocess.CompletedProcess) -> bool:
    return (done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
            and "Traceback" not in done.stderr)


BAD_DATABASE_URLS = {
    "unknown driver in config": (f"postgresql+psycopg2://u:{DB_SECRET}@db.example/t", {}),
    "unknown driver in $TRACKER_DATABASE_URL": (
        None, {"TRACKER_DATABASE_URL": f"postgresql+psycopg2://u:{ENV_DB_SECRET}@db.example/t"}),
    "port not a number": (f"postgresql+psycopg://u:{PORT_SECRET}@db.example:abc/t", {}),
    "port not a number in $TRACKER_DATABASE_URL": (
        None, {"TRACKER_DATABASE_URL": f"postgres://u:{PORT_SECRET}@db.example:abc/t"}),
}


@pytest.mark.parametrize("fault", sorted(BAD_DATABASE_URLS))
@pytest.mark.parametrize("command", ["check", "status"])
def test_a_bad_database_url_is_one_line_without_its_password(env, fault, command, fault_result):
    database, extra = BAD_DATABASE_URLS[fault]
    config = secret_config(env, "http://127.0.0.1:9", database)
    done = tracker("--config", str(config), command, cwd=env, **extra)
    shown = leaked(done.stdout + done.stderr)
    survived = one_clean_line(done) and not shown
    fault_result(area=AREA, fault=f"database URL: {fault}", target=f"tracker {command}",
                 survived=survived, note=done.stderr.strip()[-160:] if survived else f"{shown}")
    assert not shown, done.stderr
    assert one_clean_line(done), done.stderr


def test_source_passwords_stay_out_of_poll_health_series_the_database_and_cache(
        env, fault_result):
    with ReplayServer() as server:  # every route unknown: 404, and 500 for these
        for path in ("/graph/fredgraph.csv", "/fred/series/observations", "/markets",
                     "/markets/KXSOME-1", "/submissions/CIK0001181412.json"):
            server.add(path, Reply(b"boom", 500, "text/plain"))
        config = secret_config(env, server.url)
        runs = {
            "tracker poll": tracker("--config", str(config), "poll", cwd=env),
            "tracker check": tracker("--config", str(config), "check", cwd=env),
            "tracker health --json": tracker("--config", str(config), "health", "--json", cwd=env),
            "tracker series": tracker("--config", str(config), "series", cwd=env),
            "tracker series --json": tracker("--config", str(config), "series", "--json", cwd=env),
            "tracker status --json": tracker("--config", str(config), "status", "--json", cwd=env),
            "tracker series --json (quick)": tracker("--config", str(config), "series", "--json",
                                                     cwd=env),
        }
    for target, done in runs.items():
        shown = leaked(done.stdout + done.stderr)
        fault_result(area=AREA, fault="password in each source's URL, credentials in env",
                     target=target, survived=not shown and "Traceback" not in done.stderr,
                     note=f"shown: {shown}" if shown else "no secret in stdout or stderr")
    stored = files_leaked(env)
    fault_result(area=AREA, fault="password in each source's URL, credentials in env",
                 target="database file and quick-path cache", survived=not stored,
                 note=f"found: {stored}" if stored else "no secret in any file written")
    assert runs["tracker poll"].returncode == 1, runs["tracker poll"].stderr
    assert "user:" not in runs["tracker poll"].stdout  # "***@" in the failure lines
    assert [t for t, d in runs.items() if leaked(d.stdout + d.stderr)] == []
    assert list((env / "cache").rglob("*.json")), "the quick path's cache was not written"
    assert stored == []


def test_a_bad_database_url_on_sighup_is_logged_without_its_password(env, fault_result):
    with ReplayServer() as server:
        config = secret_config(env, server.url)
        config.write_text(config.read_text() + '\n[schedule]\nprices_every = "1h"\n')
        daemon = Daemon(config)
        try:
            assert daemon.saw("yahoo:"), daemon.log  # the first poll ran (and failed)
            text = config.read_text().replace(
                f'url = "sqlite:///{env / "tracker.db"}"',
                f'url = "postgresql+psycopg2://u:{HUP_SECRET}@db.example/t"')
            config.write_text(text)
            daemon.proc.send_signal(signal.SIGHUP)
            refused = daemon.saw("refused the new config", timeout=10)
        finally:
            code = daemon.stop()
    shown = leaked(daemon.log)
    fault_result(area=AREA, fault="database URL with a password, bad driver, on SIGHUP",
                 target="tracker run log", survived=refused and not shown and code == 0,
                 note=f"shown: {shown}" if shown else "refused, password not logged")
    assert refused, daemon.log
    assert shown == [], daemon.log
    assert code == 0
    assert files_leaked(env) == []
