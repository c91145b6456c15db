"""`tracker site build DIR`: the web view as static files, over the database
tests/test_web.py fills from recorded payloads. Every page, JSON answer and the feed is
written; every link inside the site is relative and reaches a file in it, and that file
holds what the server answers for the link's page; a folder that is not a previous build
is refused, and a build that fails leaves the previous one whole."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.test_poll_end_to_end import tracker
from tests.test_web import PAGES, app_of, build_site

LINK = re.compile(r'\b(?:href|src)="([^"]*)"')
FILES = {"/": "index.html", "/series": "series/index.html",
         "/calibration": "calibration/index.html", "/api/calibration": "api/calibration.json",
         "/who/Ann%20Example": "who/Ann Example/index.html",
         "/who/Bo%20Sample": "who/Bo Sample/index.html",
         "/p/xi-out": "p/xi-out/index.html", "/p/typed-markup": "p/typed-markup/index.html",
         "/api/status": "api/status.json", "/api/p/xi-out": "api/p/xi-out.json",
         "/api/scoreboard": "api/scoreboard.json", "/api/series": "api/series.json",
         "/api/health": "api/health.json", "/feed.atom": "feed.atom",
         "/static/style.css": "static/style.css", "/static/icon.svg": "static/icon.svg"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def client(site):
    from starlette.testclient import TestClient

    with TestClient(app_of(site)) as client:
        yield client


@pytest.fixture(scope="module")
def built(site, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("published") / "site"
    done = tracker(site.config, "site", "build", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote ") and done.stdout.endswith(f" files to {folder}\n")
    return folder


def links(text: str) -> list[str]:
    return [html.unescape(link) for link in LINK.findall(text)]


def without_links(text: str) -> str:
    return LINK.sub('href=""', text)


def resolve(page: Path, link: str) -> Path:
    """The file a relative ``link`` on ``page`` reaches, as a browser opening the folder
    from disk finds it."""
    path = urlsplit(link).path
    return (page.parent / unquote(path)).resolve()


def expected_file(path: str) -> str:
    if path in FILES:
        return FILES[path]
    if path.startswith("/api/"):
        return path.removeprefix("/") + ".json"
    return path.strip("/") + "/index.html"


def test_every_page_and_answer_is_a_file(built):
    for path in PAGES:
        assert path in FILES or path.startswith("/p/")
    expected = set(FILES.values()) | {f"p/{p.removeprefix('/p/')}/index.html"
                                      for p in PAGES if p.startswith("/p/")}
    for name in expected:
        assert (built / name).is_file(), name


def test_every_link_is_relative_and_reaches_a_file_in_the_site(built):
    pages = [*built.rglob("*.html"), built / "feed.atom"]
    assert len(pages) == len(PAGES) + 1  # a file for each page, and the feed
    for page in pages:
        found = links(page.read_text(encoding="utf-8"))
        assert found, page
        for link in found:
            assert not link.startswith("/") and "://" not in link, (page, link)
            target = resolve(page, link)
            assert target.is_file(), (page, link)
            assert target.is_relative_to(built.resolve()), (page, link)


def test_each_file_holds_what_the_server_answers_and_links_to_the_same_pages(built, client):
    """A page's text is the server's but for its links; each link reaches the file of the
    page the server's link names, so following the site is following the server."""
    for path, name in FILES.items():
        answer = client.get(path)
        assert answer.status_code == 200, path
        kept = (built / name).read_bytes()
        if not name.endswith((".html", ".atom")):
            assert kept == answer.content, path
            continue
        text = kept.decode("utf-8")
        served = answer.text.replace("http://testserver/", "/")  # the feed's absolute links
        assert without_links(text) == without_links(served), path
        pairs = list(zip(links(text), links(served), strict=True))
        for site_link, server_link in pairs:
            target = resolve(built / name, site_link)
            wanted = server_link.partition("#")[0]
            expected = expected_file(wanted)
            assert target == (built / unquote(expected)).resolve(), (name, site_link, server_link)


def test_the_site_links_pages_with_their_fragments(built):
    """A person's page links to claims; the claim links back to the person."""
    page = built / "p" / "xi-out" / "index.html"
    found = links(page.read_text(encoding="utf-8"))
    assert "../../who/Ann%20Example/index.html" in found
    assert "../../static/style.css" in found and "../../index.html" in found
    assert "../../api/p/xi-out.json" in found


def test_a_folder_that_is_not_a_site_is_refused_and_left_alone(site, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    done = tracker(site.config, "site", "build", str(folder))
    assert done.returncode == 2
    assert done.stderr == (f"tracker: {folder} holds other files: give an empty folder, "
                           "a new one, or one a site build wrote\n")
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # nothing left beside it


def test_a_file_in_the_way_is_one_line(site, tmp_path):
    target = tmp_path / "site"
    target.write_text("mine")
    done = tracker(site.config, "site", "build", str(target))
    assert (done.returncode, done.stderr) == (2, f"tracker: {target} is a file, not a folder\n")
    assert target.read_text() == "mine"


def test_an_empty_folder_is_built_into(site, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    done = tracker(site.config, "site", "build", str(folder))
    assert done.returncode == 0, done.stderr
    assert (folder / "index.html").is_file()


def test_a_rebuild_replaces_the_previous_site_whole(site, tmp_path):
    from tracker.web.site import build

    source = app_of(site).app.state.source
    folder = tmp_path / "site"
    build(source, folder)
    (folder / "p" / "gone-claim").mkdir()
    (folder / "p" / "gone-claim" / "index.html").write_text("a claim since removed")
    build(source, folder)
    assert not (folder / "p" / "gone-claim").exists()
    assert (folder / "p" / "xi-out" / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_build_leaves_the_previous_site_as_it_was(site, tmp_path, monkeypatch):
    from tracker.web import site as site_module

    source = app_of(site).app.state.source
    folder = tmp_path / "site"
    site_module.build(source, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def no_swap(fresh, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_module, "_swap", no_swap)
    with pytest.raises(OSError):
        site_module.build(source, folder)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # the new one removed


def test_a_name_that_is_no_file_name_still_gets_a_page():
    from tracker.web.site import file_of, relative

    assert file_of("/who/A%2FB") == "who/A%2FB/index.html"  # not a folder A with a B in it
    assert file_of("/who/..") == "who/%2E%2E/index.html"
    files = {"/who/A/B": "who/A%2FB/index.html", "/": "index.html"}
    assert relative("/who/A%2FB", "p/x/index.html", files) == "../../who/A%252FB/index.html"
    assert relative("/#top", "p/x/index.html", files) == "../../index.html#top"


def test_a_page_that_fails_stops_the_build_before_the_folder_is_touched(site, tmp_path,
                                                                         monkeypatch):
    from tracker.web import site as site_module

    source = app_of(site).app.state.source
    folder = tmp_path / "site"
    site_module.build(source, folder)
    before = (folder / "p" / "xi-out" / "index.html").read_bytes()
    monkeypatch.setattr(source, "prediction", lambda _pid: None)  # every claim unknown
    with pytest.raises(site_module.PageError, match=r"^/p/\S+ answered 404$"):
        site_module.build(source, folder)
    assert (folder / "p" / "xi-out" / "index.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
