"""The web view in a real browser: the system's Chromium driven by Playwright, against
`tracker serve`'s app on a loopback port, over a database filled by `tracker poll` from
recorded payloads (tests/test_web.py builds it). Each page at a phone's width and a
desktop's: what it shows matches `tracker status --json` and `scoreboard --json`, the
chart is drawn, nothing is logged to the console, and a `<script>` in a market's
question or in registry text never runs. Screenshots of each page are kept as artifacts
in a folder the tests print.

Without /usr/bin/chromium these tests skip, saying so; with $TRACKER_REQUIRE_BROWSER set
(CI sets it) they fail instead."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.test_web import PAGES, app_of, build_site
from tracker.digest.render import status_label

CHROMIUM = Path("/usr/bin/chromium")
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


def _unavailable(reason: str):
    if os.environ.get("TRACKER_REQUIRE_BROWSER"):
        pytest.fail(f"TRACKER_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("web-browser"))


@pytest.fixture(scope="module")
def base_url(site):
    """The app on a free loopback port, served by uvicorn in a thread, as `tracker
    serve` serves it."""
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app_of(site), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the app did not start"
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go: $TRACKER_SCREENSHOTS when set (kept after the run, for
    people to look at), else a folder of the test run's."""
    named = os.environ.get("TRACKER_SCREENSHOTS")
    folder = Path(named) / "web" if named else tmp_path_factory.mktemp("web-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()  # only this run's pictures, so the count below means something
    print(f"\nscreenshots of the web view: {folder}")
    return folder


class Tab:
    """A browser page at one of SIZES, and what it logged since its last visit: console
    errors and warnings, uncaught errors, failed requests."""

    def __init__(self, browser, size: str):
        width, height = SIZES[size]
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.logged: list[str] = []
        self.page.on("console", lambda m: self.logged.append(f"{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.logged.append(f"page error: {e}"))
        # A request the next navigation cancels (the icon, still loading when the page's
        # load event let the test move on) is not a failure of the page: ERR_ABORTED.
        self.page.on("requestfailed", lambda r: None if r.failure == "net::ERR_ABORTED"
                     else self.logged.append(f"failed: {r.url} ({r.failure})"))

    def visit(self, url: str):
        self.logged.clear()
        response = self.page.goto(url)
        assert response.status == 200, url
        return self.page


# The text labels of each chart on a page that are shown and overlap the next one along
# the same line (a date at an end and a month's name, say): none should.
LABELS_MEET = """() => [...document.querySelectorAll('svg.chart')].flatMap(chart => {
    const shown = [...chart.querySelectorAll('text')]
        .filter(t => getComputedStyle(t).display !== 'none')
        .map(t => ({text: t.textContent, box: t.getBoundingClientRect()}));
    return shown.flatMap((a, i) => shown.slice(i + 1)
        .filter(b => Math.abs(a.box.top - b.box.top) < 2 && a.box.left < b.box.right
                     && b.box.left < a.box.right)
        .map(b => a.text + ' / ' + b.text));
})"""


def visit(browser, url: str, size: str):
    tab = Tab(browser, size)
    return tab.visit(url), tab.logged


def test_every_page_loads_clean_at_phone_and_desktop_widths(browser, base_url, shots):
    for size in SIZES:
        tab = Tab(browser, size)
        for path in PAGES:
            page = tab.visit(base_url + path)
            name = path.strip("/").replace("/", "-").replace("%20", "-") or "scoreboard"
            page.screenshot(path=shots / f"{name}-{size}.png", full_page=True)
            # Nothing wider than the screen: the page reads on a phone without scrolling
            # sideways (a wide table scrolls in its own box).
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            ran = page.evaluate("[window.pwned, document.scripts.length]")
            assert tab.logged == [], f"{path} at {size}: {tab.logged}"
            assert overflow <= 0, f"{path} at {size} is {overflow}px wider than the screen"
            assert ran == [None, 0], f"{path} at {size}: a script ran"
            assert page.evaluate(LABELS_MEET) == [], f"{path} at {size}: labels overlap"
        tab.page.close()
    assert len(list(shots.glob("*.png"))) == 2 * len(PAGES)


def test_claims_statuses_and_numbers_match_the_command_line(browser, base_url, site):
    page, _ = visit(browser, base_url + "/", "desktop")
    shown = page.eval_on_selector_all("li.claim", """items => items.map(item => ({
        id: item.dataset.id,
        status: item.querySelector('.badge').textContent,
        p: item.querySelector('.p').textContent,
        claim: item.querySelector('.claim-text').textContent}))""")
    board = page.eval_on_selector_all("table.board tbody tr", """rows => rows.map(row => ({
        who: row.dataset.who, rate: row.querySelector('.rate').textContent}))""")
    page.close()
    expected = [{"id": row["id"], "status": status_label(row["status"]),
                 "p": "–" if row["probability"] is None else f"{100 * row['probability']:.0f}%",
                 "claim": row["claim"]} for row in site.printed["status"]]
    assert shown == expected
    assert board == [{"who": p["who"], "rate": f"{100 * p['expected_hit_rate']:.0f}%"}
                     for p in site.printed["scoreboard"]]


def test_a_claims_chart_is_drawn(browser, base_url, site):
    page, _ = visit(browser, base_url + "/p/xi-out", "phone")
    drawn = page.evaluate("""() => {
        const line = document.querySelector('svg.chart path.history');
        const box = document.querySelector('svg.chart').getBoundingClientRect();
        return {length: line.getTotalLength(), width: box.width, height: box.height,
                marked: !!document.querySelector('svg.chart .made-on')};
    }""")
    page.close()
    assert drawn["length"] > 0 and drawn["marked"]
    assert 300 < drawn["width"] <= 390 and drawn["height"] > 100  # fits the phone's width


@pytest.mark.parametrize("size", SIZES)
def test_everyones_expected_hits_are_drawn_on_the_scoreboard(browser, base_url, site, size):
    """A line a person, drawn within the page's width, its date labels apart, and the
    legend's figures the scoreboard's expected hits, with nothing logged."""
    page, logged = visit(browser, base_url + "/", size)
    drawn = page.evaluate("""() => {
        const chart = document.querySelector('figure.hits svg.chart');
        const box = chart.getBoundingClientRect();
        const dates = [...chart.querySelectorAll('text')]
            .filter(t => t.getAttribute('y') > 200 && t.getBBox().width > 0)
            .map(t => t.getBoundingClientRect())
            .sort((a, b) => a.left - b.left);
        const apart = dates.every((d, i) => i === 0 || dates[i - 1].right <= d.left);
        return {lines: [...chart.querySelectorAll('path.history')].map(p => p.getTotalLength()),
                width: box.width, height: box.height, apart: apart, dates: dates.length,
                table: (s => s.scrollWidth - s.clientWidth)(document.querySelector('.scroll')),
                legend: [...document.querySelectorAll('.hits-legend tbody tr')].map(row => ({
                    who: row.dataset.who, now: row.querySelector('.expected').textContent}))};
    }""")
    page.close()
    board = site.printed["scoreboard"]
    assert logged == []
    assert len(drawn["lines"]) == len(board) and all(length > 0 for length in drawn["lines"])
    assert 300 < drawn["width"] <= SIZES[size][0] and drawn["height"] > 100
    assert drawn["apart"] and drawn["dates"] >= 2, "date labels overlap"
    assert drawn["table"] <= 0, f"the scoreboard scrolls {drawn['table']}px sideways at {size}"
    assert sorted(drawn["legend"], key=lambda row: row["who"]) == sorted(
        ({"who": p["who"], "now": f"{p['expected_hits']:.2f}"} for p in board),
        key=lambda row: row["who"])


def test_a_script_in_a_market_question_or_registry_text_is_shown_never_run(browser,
                                                                         base_url):
    tab = Tab(browser, "desktop")
    for path, markup in (("/p/xi-out", "<script>window.pwned=1</script>"),
                         ("/p/typed-markup", "<script>window.pwned=2</script>")):
        page = tab.visit(base_url + path)
        assert markup in page.inner_text("main"), path
        assert page.evaluate("[window.pwned, document.scripts.length, document.images.length]"
                             ) == [None, 0, 0], path
        assert tab.logged == [], path  # not even a script blocked by the policy
    tab.page.close()
