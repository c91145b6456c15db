"""Loopback servers for the benchmarks: one threaded HTTP server per source (five
ports, so the client's per-host concurrency limit applies per source, as in
production), each answering every path with a recorded body from tests/fixtures after
an optional fixed delay.

With ``--smtp`` the child also runs an SMTP sink on loopback (aiosmtpd, from the test
extras) that accepts every message and counts it; ``urls["smtp"]`` is its port, and
``GET /__smtp`` on any HTTP server returns its counters (messages, bytes).

Not a benchmark itself. Run on its own it starts the five servers and prints one JSON
line naming their URLs, then serves until killed:

    .venv/bin/python bench/loopback.py --delay 0.1

The benchmarks start it as a subprocess (``Loopback``), so the server threads never
compete with the measured process for the GIL. ``GET /__stats`` on any server returns
its counters (requests, Gamma slugs asked for, most requests in flight at once) and
``GET /__reset`` zeroes them; neither is counted.

Routes (anything else answers 404):

- yahoo:      /v8/finance/chart/<symbol>        the BATS.L daily chart, every symbol
- fred:       /graph/fredgraph.csv?id=<ID>      the NASDAQCOM CSV, header renamed to <ID>
- polymarket: /markets?slug=a&slug=b...         one recorded open market per slug asked,
                                                its slug replaced; /prices-history: CLOB
- kalshi:     /markets?tickers=A,B,...          {"cursor": "", "markets": [...]}, one
                                                recorded open market per ticker asked,
                                                its ticker replaced;
              /markets/<ticker>                 the same market, for one ticker;
              /events/<e>, .../candlesticks     recorded event and candles (gap filling)
- edgar:      /submissions/CIK##########.json   SpaceX's recorded submissions, its CIK
                                                replaced by the one asked for
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SOURCES = ("yahoo", "fred", "polymarket", "kalshi", "edgar")


# --- the servers (child process) -------------------------------------------------------------


class _Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.slugs = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.by_route: dict[str, int] = {}

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "requests": self.requests,
                "slugs": self.slugs,
                "max_in_flight": self.max_in_flight,
                "by_route": dict(self.by_route),
            }


def _bodies() -> dict:
    chart = (FIXTURES / "yahoo" / "BATS.L_1d_period.json").read_bytes()
    csv_text = (FIXTURES / "fred" / "NASDAQCOM_DATE_dot_missing.csv").read_text()
    market = json.loads((FIXTURES / "polymarket" / "markets_open_xi.json").read_text())[0]
    history = (FIXTURES / "polymarket" / "prices_history_abiy.json").read_bytes()
    kalshi = json.loads((FIXTURES / "kalshi" / "market_open_KXNEWPOPE-70-PPAR.json").read_text())
    event = (FIXTURES / "kalshi" / "event_KXNEWPOPE-70.json").read_bytes()
    candles = (FIXTURES / "kalshi" / "candles_live_KXFEDDECISION-26SEP-C26.json").read_bytes()
    filings = json.loads((FIXTURES / "edgar" / "submissions_CIK0001181412_spacex.json").read_text())
    return {"chart": chart, "csv": csv_text, "market": market, "history": history,
            "kalshi": kalshi, "event": event, "candles": candles, "filings": filings}


def _answer(source: str, path: str, query: dict, bodies: dict) -> tuple[int, str, bytes, str, int]:
    """(status, content type, body, route name, slugs asked) for one request."""
    if source == "yahoo" and path.startswith("/v8/finance/chart/"):
        return 200, "application/json", bodies["chart"], "chart", 0
    if source == "fred" and path == "/graph/fredgraph.csv":
        series_id = (query.get("id") or ["NASDAQCOM"])[0]
        body = bodies["csv"].replace("NASDAQCOM", series_id).encode()
        return 200, "text/csv", body, "fredgraph.csv", 0
    if source == "polymarket" and path == "/markets":
        slugs = query.get("slug", [])
        markets = [{**bodies["market"], "slug": slug} for slug in slugs]
        return 200, "application/json", json.dumps(markets).encode(), "gamma/markets", len(slugs)
    if source == "polymarket" and path == "/prices-history":
        return 200, "application/json", bodies["history"], "clob/prices-history", 0
    if source == "kalshi" and path.endswith("/candlesticks"):
        return 200, "application/json", bodies["candles"], "kalshi/candlesticks", 0
    if source == "kalshi" and path.startswith("/events/"):
        return 200, "application/json", bodies["event"], "kalshi/event", 0
    if source == "kalshi" and path == "/markets":
        tickers = [t for value in query.get("tickers", []) for t in value.split(",") if t]
        markets = [{**bodies["kalshi"]["market"], "ticker": t} for t in tickers]
        body = json.dumps({"cursor": "", "markets": markets}).encode()
        return 200, "application/json", body, "kalshi/markets?tickers", 0
    if source == "kalshi" and path.startswith("/markets/"):
        ticker = path.rsplit("/", 1)[1]
        market = {**bodies["kalshi"]["market"], "ticker": ticker}
        return 200, "application/json", json.dumps({"market": market}).encode(), "kalshi/market", 0
    if source == "edgar" and (found := re.fullmatch(r"/submissions/CIK(\d{10})\.json", path)):
        body = json.dumps({**bodies["filings"], "cik": found.group(1)}).encode()
        return 200, "application/json", body, "edgar/submissions", 0
    return 404, "text/plain", b"no route", "404", 0


def _server(source: str, delay: float, bodies: dict, sink=None) -> ThreadingHTTPServer:
    counters = _Counters()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
        # Headers and body go out in two writes; with Nagle on, the second waits for
        # the client's delayed ACK (~40 ms on Linux), a cost no real API server adds.
        disable_nagle_algorithm = True

        def do_GET(self):
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            if path == "/__smtp":
                self._send(200, "application/json", json.dumps(sink and sink.snapshot()).encode())
                return
            if path in ("/__stats", "/__reset"):
                if path == "/__reset":
                    with counters.lock:
                        counters.reset()
                self._send(200, "application/json", json.dumps(counters.snapshot()).encode())
                return
            status, kind, body, route, slugs = _answer(source, path, parse_qs(parts.query), bodies)
            with counters.lock:
                counters.requests += 1
                counters.slugs += slugs
                counters.by_route[route] = counters.by_route.get(route, 0) + 1
                counters.in_flight += 1
                counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
            try:
                if delay:
                    time.sleep(delay)
                self._send(status, kind, body)
            finally:
                with counters.lock:
                    counters.in_flight -= 1

        def _send(self, status, kind, body):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    return Server(("127.0.0.1", 0), Handler)


class _SmtpSink:
    """An aiosmtpd handler that accepts every message and counts it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, _server, _session, envelope):
        with self.lock:
            self.messages += 1
            self.bytes += len(envelope.content)
        return "250 OK"

    def snapshot(self) -> dict:
        with self.lock:
            return {"messages": self.messages, "bytes": self.bytes}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(delay: float, smtp: bool = False) -> None:
    bodies = _bodies()
    sink = None
    if smtp:
        from aiosmtpd.controller import Controller

        sink = _SmtpSink()
        controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
        controller.start()
    servers = {source: _server(source, delay, bodies, sink) for source in SOURCES}
    for httpd in servers.values():
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    urls = {s: f"http://127.0.0.1:{httpd.server_address[1]}" for s, httpd in servers.items()}
    if sink is not None:
        urls["smtp"] = controller.port
    print(json.dumps(urls), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


# --- the client side (benchmark process) -----------------------------------------------------


class Loopback:
    """Start the five servers in a child process; ``urls``, ``stats()``, ``reset()``."""

    def __init__(self, delay: float, smtp: bool = False):
        self.delay = delay
        self.smtp = smtp
        self.proc: subprocess.Popen | None = None
        self.urls: dict[str, str] = {}

    def __enter__(self) -> Self:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--delay", str(self.delay),
             *(["--smtp"] if self.smtp else [])],
            stdout=subprocess.PIPE, text=True,
        )
        self.urls = json.loads(self.proc.stdout.readline())
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def _get(self, source: str, path: str) -> dict:
        with urllib.request.urlopen(self.urls[source] + path, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, dict]:
        return {source: self._get(source, "/__stats") for source in SOURCES}

    def smtp_stats(self) -> dict | None:
        """The SMTP sink's counters (messages, bytes); None without ``smtp``."""
        return self._get("yahoo", "/__smtp")

    def reset(self) -> None:
        for source in SOURCES:
            self._get(source, "/__reset")


# --- the workload: 200 series over four sources, as a config and a registry file ----------------

DEFAULT_MIX = {"yahoo": 80, "fred": 40, "polymarket": 60, "kalshi": 20}


def symbols_for(mix: dict[str, int] = DEFAULT_MIX) -> dict[str, list[str]]:
    return {
        "yahoo": [f"BENCH{i:03d}.L" for i in range(mix["yahoo"])],
        "fred": [f"BENCHF{i:03d}" for i in range(mix["fred"])],
        "polymarket": [f"bench-market-{i:03d}" for i in range(mix["polymarket"])],
        "kalshi": [f"KXBENCH-26-T{i:03d}" for i in range(mix["kalshi"])],
    }


def registry_toml(symbols: dict[str, list[str]]) -> str:
    """A far-off threshold per price/macro series (always open, always fetched) and a
    market call per market series."""
    out = []
    for source in ("yahoo", "fred"):
        for i, sym in enumerate(symbols[source]):
            out.append(
                f'[[prediction]]\nid = "bench-{source}-{i:03d}"\nwho = "Bench"\n'
                f'made_on = 2026-01-10\nclaim = "{source}:{sym} tops 1e12"\nkind = "threshold"\n'
                f'series = "{source}:{sym}"\ntarget = 1e12\ndirection = "above"\n'
                f"deadline = 2030-12-31\n"
            )
    for source in ("polymarket", "kalshi"):
        for i, sym in enumerate(symbols[source]):
            out.append(
                f'[[prediction]]\nid = "bench-{source}-{i:03d}"\nwho = "Bench"\n'
                f'made_on = 2026-01-10\nclaim = "{sym} resolves yes"\nkind = "market"\n'
                f'series = "{source}:{sym}"\nside = "yes"\n'
            )
    return "\n".join(out)


def write_config(
    folder: Path,
    urls: dict[str, str],
    database_url: str,
    registry_files: list[str] = (),
    bundled: bool = False,
    schedule: dict[str, str] | None = None,
    per_host_concurrency: int | None = None,
    email: dict | None = None,
) -> Path:
    """A config with every source pointed at the loopback servers (the keys of
    tests/sources_fixtures.replay_config)."""
    lines = [
        "[database]", f'url = "{database_url}"', "",
        "[registry]", f"bundled = {'true' if bundled else 'false'}",
        f"files = {json.dumps([str(f) for f in registry_files])}", "",
    ]
    if schedule:
        lines += ["[schedule]"] + [f'{k} = "{v}"' for k, v in schedule.items()] + [""]
    if per_host_concurrency is not None:
        lines += ["[http]", f"per_host_concurrency = {per_host_concurrency}", ""]
    if email:
        lines += ["[email]"] + [f"{k} = {json.dumps(v)}" for k, v in email.items()] + [""]
    lines += [
        "[sources.yahoo]", f'base_url = "{urls["yahoo"]}"', "",
        "[sources.fred]", f'base_url = "{urls["fred"]}"', f'api_url = "{urls["fred"]}"',
        'api_key_env = "TRACKER_BENCH_NO_SUCH_KEY"', "",
        "[sources.polymarket]", f'gamma_url = "{urls["polymarket"]}"',
        f'clob_url = "{urls["polymarket"]}"', "",
        "[sources.kalshi]", f'base_url = "{urls["kalshi"]}"', "",
        "[sources.coingecko]", f'base_url = "{urls["yahoo"]}"', "",
        "[sources.edgar]", f'base_url = "{urls["edgar"]}"', "",
    ]
    path = folder / "config.toml"
    path.write_text("\n".join(lines))
    return path


def workload(folder: Path, urls: dict[str, str], database_url: str, mix=DEFAULT_MIX, **config):
    """Write the 200-series registry and a config reading it; returns (config path, symbols)."""
    symbols = symbols_for(mix)
    registry = folder / "bench_registry.toml"
    registry.write_text(registry_toml(symbols))
    return write_config(folder, urls, database_url, [registry.name], **config), symbols


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: other work on the machine skews timings."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every answer")
    parser.add_argument("--smtp", action="store_true", help="also run an SMTP sink")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    options = parser.parse_args()
    serve(options.delay, options.smtp)
