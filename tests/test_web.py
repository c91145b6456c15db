"""`tracker serve`'s app over HTTP (Starlette's TestClient): every page and API route on a
database filled by `tracker poll` from recorded Gamma and Yahoo responses replayed on
loopback, the API answering what the command line's --json prints, 404s, read only, the
Content-Security-Policy, and untrusted text (a market's question, registry text, a
verdict's note) escaped."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.replay import FIXTURES, ReplayServer, Reply
from tests.sources_fixtures import YAHOO_CHART, replay_config
from tests.test_poll_end_to_end import tracker
from tracker.views.status import STATUSES

XI = "polymarket:xi-jinping-out-before-2027"
# A market question and registry text with markup in them: it must show as text.
XI_QUESTION = "<script>window.pwned=1</script>Xi Jinping out before 2027?"
CLAIM_MARKUP = "<script>window.pwned=2</script>A claim typed with markup"
NOTES_MARKUP = '<img src=x onerror="window.pwned=3">'
NOTE_MARKUP = "<b>checked by hand</b>"


def predictions(today: str) -> str:
    """Two people's calls: markets open and resolved, a threshold on a daily chart, and a
    manual claim whose words carry markup. The open market was made today, so its price
    that day is the price now."""
    symbol = YAHOO_CHART[0]
    return f"""
[[prediction]]
id = "xi-out"
who = "Ann Example"
made_on = {today}
claim = "Xi Jinping leaves office before 2027."
kind = "market"
series = "{XI}"
side = "yes"

[[prediction]]
id = "abiy-pm"
who = "Ann Example"
made_on = 2026-01-10
claim = "Abiy Ahmed stays prime minister of Ethiopia."
kind = "market"
series = "polymarket:will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia"
side = "yes"

[[prediction]]
id = "belete-pm"
who = "Bo Sample"
made_on = 2026-01-10
claim = "Belete Molla becomes prime minister of Ethiopia."
kind = "market"
series = "polymarket:will-belete-molla-be-the-next-prime-minister-of-ethiopia"
side = "yes"

[[prediction]]
id = "bats-far-above"
who = "Bo Sample"
made_on = 2026-01-10
claim = "BAT shares reach a million pence."
kind = "threshold"
series = "yahoo:{symbol}"
target = 1e6
direction = "above"
deadline = 2026-12-31

[[prediction]]
id = "typed-markup"
who = "Bo Sample"
made_on = 2026-01-10
claim = '{CLAIM_MARKUP}'
kind = "manual"
notes = '{NOTES_MARKUP}'
"""


def gamma(xi_yes: str):
    """Gamma's /markets answer: the recorded markets asked for, Xi's with its question
    carrying markup and its yes price at ``xi_yes``."""
    pool = [*json.loads((FIXTURES / "polymarket" / "markets_open_xi.json").read_text()),
            *json.loads((FIXTURES / "polymarket" / "markets_ethiopia_resolved.json").read_text())]
    for market in pool:
        if market["slug"] == XI.partition(":")[2]:
            market["question"] = XI_QUESTION
            market["outcomePrices"] = json.dumps([xi_yes, f"{1 - float(xi_yes):.4f}"])

    def answer(query: dict[str, list[str]]) -> Reply:
        wanted = set(query.get("slug", []))
        return Reply(json.dumps([m for m in pool if m["slug"] in wanted]).encode())

    return answer


@dataclass
class Site:
    """A database filled by two polls and a manual verdict, and what the CLI prints of it."""

    config: Path
    url: str
    printed: dict[str, object]  # command -> its --json output, parsed


CLI_JSON = {"status": ["status"], "scoreboard": ["scoreboard"], "series": ["series"],
            "health": ["health"], "show xi-out": ["show", "xi-out"],
            "show typed-markup": ["show", "typed-markup"],
            "show bats-far-above": ["show", "bats-far-above"]}


def build_site(folder: Path) -> Site:
    """Poll twice (Xi's price moves between them, so its chart has a line), give the
    manual claim its verdict, and record what each listing prints as JSON."""
    today = datetime.now(UTC).date().isoformat()
    with ReplayServer() as server:
        answers = {"xi": gamma("0.0455")}
        server.add("/markets", lambda query: answers["xi"](query))
        server.add(f"/v8/finance/chart/{YAHOO_CHART[0]}", Reply.file(YAHOO_CHART[1]))
        config = replay_config(folder, server.url, predictions=predictions(today))
        first = tracker(config, "poll")
        answers["xi"] = gamma("0.0800")
        second = tracker(config, "poll")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    resolved = tracker(config, "resolve", "typed-markup", "right", "--note", NOTE_MARKUP)
    assert resolved.returncode == 0, resolved.stderr
    printed = {}
    for name, args in CLI_JSON.items():
        done = tracker(config, *args, "--json")
        # No daemon leads on this database: health says so, and so must its API.
        assert done.returncode == (1 if name == "health" else 0), done.stderr
        printed[name] = json.loads(done.stdout)
    return Site(config, f"sqlite:///{folder / 'tracker.db'}", printed)


def app_of(site: Site, notice: str | None = None):
    """The app `tracker serve` runs, over the site's database, registry and settings."""
    from db.engine import READ, open_database
    from tracker.config import load_settings
    from tracker.registry import load_registry
    from tracker.web.app import create_app
    from tracker.web.data import Source

    settings = load_settings(str(site.config))
    engine = open_database(site.url, READ)
    return create_app(Source(engine, load_registry(settings), settings, notice))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    return build_site(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(site):
    from starlette.testclient import TestClient

    with TestClient(app_of(site)) as client:
        yield client


PAGES = ["/", "/who/Ann%20Example", "/who/Bo%20Sample", "/p/xi-out", "/p/abiy-pm",
         "/p/belete-pm", "/p/bats-far-above", "/p/typed-markup", "/series", "/calibration"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_html_with_no_script_allowed(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_no_script_allowed(response)
    assert "<script" not in response.text  # no script of ours, none of theirs


def assert_no_script_allowed(response):
    csp = dict(part.strip().split(" ", 1)
               for part in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and "script-src" not in csp
    assert csp["style-src"] == "'self'"  # no inline styles either
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("path", "command"), [
    ("/api/status", "status"), ("/api/scoreboard", "scoreboard"), ("/api/series", "series"),
    ("/api/health", "health"), ("/api/p/xi-out", "show xi-out"),
    ("/api/p/typed-markup", "show typed-markup"),
])
def test_the_api_answers_what_the_commands_json_prints(client, site, path, command):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == site.printed[command]
    assert_no_script_allowed(response)


def test_the_status_api_takes_the_commands_filters(client, site):
    right = client.get("/api/status", params={"status": "right"}).json()
    assert {row["id"] for row in right} == {"abiy-pm", "typed-markup"}
    bo = client.get("/api/status", params={"who": "bo", "open": "true"}).json()
    assert [row["id"] for row in bo] == ["bats-far-above"]
    markets = client.get("/api/status", params=[("kind", "market"), ("kind", "manual")]).json()
    assert len(markets) == 4
    bad = client.get("/api/status", params={"status": "maybe"})
    assert bad.status_code == 400 and "unknown status 'maybe'" in bad.json()["error"]


@pytest.mark.parametrize("path", ["/p/no-such-claim", "/who/Nobody", "/nothing-here",
                                  "/static/nothing.css"])
def test_unknown_pages_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Not found" in response.text and "text/html" in response.headers["content-type"]
    assert_no_script_allowed(response)


def test_an_unknown_id_in_the_api_is_a_json_404(client):
    response = client.get("/api/p/no-such-claim")
    assert response.status_code == 404
    assert response.json() == {"error": "no prediction has that id"}


@pytest.mark.parametrize("path", ["/", "/p/typed-markup", "/api/status"])
def test_nothing_can_be_written(client, path):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, path).status_code == 405


def test_a_market_question_with_markup_shows_as_text(client):
    for path in ("/p/xi-out", "/series"):
        page = client.get(path).text
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;Xi Jinping out before 2027?" in page
        assert "window.pwned=1</script>" not in page


def test_registry_text_and_a_verdicts_note_with_markup_show_as_text(client):
    page = client.get("/p/typed-markup").text
    assert "&lt;script&gt;window.pwned=2&lt;/script&gt;A claim typed with markup" in page
    assert "&lt;img src=x onerror=&#34;window.pwned=3&#34;&gt;" in page
    assert "&lt;b&gt;checked by hand&lt;/b&gt;" in page
    assert "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;window.pwned=2" in client.get("/").text


def test_the_scoreboard_page_draws_everyones_expected_hits_ending_at_the_scoreboards(client, site):
    """A line a person in the chart, and its legend says each one's expected hits now:
    what `tracker scoreboard --json` says, and how many claims that rests on."""
    page = client.get("/").text
    start = page.index('<figure class="hits">')
    chart = page[start:page.index("</figure>", start)]
    board = site.printed["scoreboard"]
    assert chart.count('class="history"') == len(board) == 2
    legend = dict(re.findall(r'<tr data-who="([^"]+)">.*?<td class="expected">([\d.]+)</td>',
                             page[page.index('class="hits-legend"'):], re.DOTALL))
    assert legend == {person["who"]: f"{person['expected_hits']:.2f}" for person in board}
    for person in board:
        assert f"{person['who']}: {person['expected_hits']:.2f} now, of {person['claims']} claims" in chart


def test_the_scoreboard_page_shows_the_commands_figures(client, site):
    page = client.get("/").text
    for person in site.printed["scoreboard"]:
        rate = f"{100 * person['expected_hit_rate']:.0f}%"
        n = person["expected_hit_rate_n"]
        assert f'<span class="rate">{rate}</span> <span class="n">(n={n})' in page
    for row in site.printed["status"]:
        assert f'data-id="{row["id"]}"' in page


def test_a_persons_page_groups_their_calls_by_status_with_their_hit_rate(client, site):
    page = client.get("/who/Bo%20Sample").text
    headings = [line for line in page.splitlines() if line.startswith("<h2 id=")]
    mine = {row["status"] for row in site.printed["status"] if row["who"] == "Bo Sample"}
    assert [h.split('"')[1] for h in headings] == [s for s in STATUSES if s in mine]
    assert {"right", "wrong"} < mine
    bo = next(p for p in site.printed["scoreboard"] if p["who"] == "Bo Sample")
    assert (bo["right"], bo["wrong"]) == (1, 1)
    assert "<dd>50% <span class=\"n\">(n=2)</span></dd>" in page  # hit rate, with its n
    assert "xi-out" not in page
    # One word of a name that no one else's shares finds the person too.
    assert client.get("/who/ann").status_code == 200


def test_a_claim_page_draws_its_odds_with_the_price_on_the_day_it_was_made(client, site):
    page = client.get("/p/xi-out").text
    assert '<svg class="chart"' in page and '<path class="history" d="M' in page
    assert 'class="made-on"' in page and "8% when made" in page
    # The rule in words, and the status history, newest first.
    assert site.printed["show xi-out"]["rule"].split(" ")[0] in page
    assert "Status history" in page


def test_a_threshold_claims_page_charts_its_series_with_the_target_drawn(client, site):
    from tracker.units import show

    page = client.get("/p/bats-far-above").text
    (series,) = site.printed["show bats-far-above"]["series"]
    inputs = page.split("<h2>Inputs</h2>", 1)[1].split("<h2>Status history</h2>", 1)[0]
    assert inputs.count('<svg class="chart"') == 1
    assert '<path class="history" d="M' in inputs
    assert inputs.count('<line class="level"') == 1
    assert f">target {show(1e6, series['unit'])}</text>" in inputs


def test_a_market_claims_page_charts_its_market_with_no_level_drawn(client):
    page = client.get("/p/xi-out").text
    inputs = page.split("<h2>Inputs</h2>", 1)[1].split("<h2>Status history</h2>", 1)[0]
    assert inputs.count('<svg class="chart"') == 1
    assert '<path class="history" d="M' in inputs
    assert 'class="level"' not in page


def test_the_stylesheet_carries_the_digests_status_colours(client):
    from tracker.digest.render import STATUS_COLOURS

    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    ink, tint = STATUS_COLOURS["wrong"]
    assert f".s-wrong{{color:{ink};background:{tint}}}" in css.text


def test_the_demos_banner_heads_every_page(site):
    from starlette.testclient import TestClient

    with TestClient(app_of(site, notice="DEMO DATA <i>not live</i>")) as demo:
        for path in ("/", "/p/xi-out", "/series"):
            page = demo.get(path).text
            assert '<p class="notice">DEMO DATA &lt;i&gt;not live&lt;/i&gt;</p>' in page


# ---- the command -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_on_loopback_until_interrupted(site):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tracker", "--config", str(site.config),
                               "serve", "--port", str(port)],
                              stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = server.stderr.readline()
        assert line == f"serving http://127.0.0.1:{port}/ (read only; Ctrl-C stops)\n"
        response = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=10)
        assert response.json() == site.printed["status"]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


def test_serve_on_a_port_in_use_is_one_line(site):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = tracker(site.config, "serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr == f"tracker: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_serve_listens_where_the_config_says_unless_told(site, tmp_path):
    # 192.0.2.1 is a documentation address, on no machine: binding it fails at once.
    with socket.socket() as taken, socket.socket() as other:
        for held in (taken, other):
            held.bind(("127.0.0.1", 0))
            held.listen()
        port, other_port = taken.getsockname()[1], other.getsockname()[1]
        config = tmp_path / "config.toml"
        config.write_text(f'{site.config.read_text()}\n[web]\nhost = "192.0.2.1"\nport = {port}\n')
        configured = tracker(config, "serve")
        told_host = tracker(config, "serve", "--host", "127.0.0.1")
        told_both = tracker(config, "serve", "--host", "127.0.0.1", "--port", str(other_port))
    assert configured.returncode == 1
    assert configured.stderr.startswith(f"tracker: cannot listen on 192.0.2.1:{port}: ")
    assert told_host.stderr == f"tracker: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert told_both.stderr == (f"tracker: cannot listen on 127.0.0.1:{other_port}: "
                                f"Address already in use\n")


def test_serve_without_a_database_says_what_to_run(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "none.db"}"\n')
    done = tracker(config, "serve")
    assert done.returncode == 2
    assert done.stderr.startswith("tracker: no database at") and "Traceback" not in done.stderr
    assert not (tmp_path / "none.db").exists()
