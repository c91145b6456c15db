"""A built site opened from disk (file://) in the system's Chromium, as someone who
downloaded the folder would: the page is styled, its chart drawn, nothing fails to load,
and its links lead to the other pages. Skips (or fails, under $TRACKER_REQUIRE_BROWSER)
as tests/test_web_browser.py does without Chromium or Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_web import app_of, build_site
from tests.test_web_browser import Tab, browser  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    from tracker.web.site import build

    site = build_site(tmp_path_factory.mktemp("site-browser"))
    out = tmp_path_factory.mktemp("published") / "site"
    build(app_of(site).app.state.source, out)
    return out


def test_a_page_opened_from_disk_is_styled_drawn_and_links_on(browser, folder):  # noqa: F811
    tab = Tab(browser, "phone")
    page = tab.page
    page.goto((folder / "p" / "xi-out" / "index.html").as_uri())
    styled = page.evaluate("""() => ({
        badge: getComputedStyle(document.querySelector('.badge')).backgroundColor,
        line: document.querySelector('svg.chart path.history').getTotalLength()})""")
    assert styled["badge"] not in ("", "rgba(0, 0, 0, 0)")  # the stylesheet's colours
    assert styled["line"] > 0
    page.click("p.crumbs a")  # the person who made the call
    assert page.url == (folder / "who" / "Ann Example" / "index.html").as_uri()
    assert page.inner_text("h1") == "Ann Example"
    page.click("header a.brand")
    assert page.url == (folder / "index.html").as_uri()
    assert page.locator("li.claim").count() == 5
    assert tab.logged == []
    page.close()
