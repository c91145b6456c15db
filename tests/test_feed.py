"""The Atom feed (`/feed.atom`) over the database tests/test_web.py fills from recorded
payloads: valid Atom, each claim's status changes newest first with the status the
command line shows last, a verdict given by hand with its note, ids that do not change
between reads, untrusted text escaped, the cap, and links to `[web] public_url`."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

import pytest

from tests.test_web import app_of, build_site
from tracker.digest.render import status_label
from tracker.views.show import status_changes

NS = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("feed"))


@pytest.fixture(scope="module")
def client(site):
    from starlette.testclient import TestClient

    with TestClient(app_of(site)) as client:
        yield client


def entries(feed: ET.Element) -> list[dict[str, str]]:
    return [{"id": e.findtext("a:id", namespaces=NS), "title": e.findtext("a:title", namespaces=NS),
             "updated": e.findtext("a:updated", namespaces=NS),
             "author": e.findtext("a:author/a:name", namespaces=NS),
             "link": e.find("a:link", NS).get("href"),
             "summary": e.findtext("a:summary", namespaces=NS)}
            for e in feed.findall("a:entry", NS)]


@pytest.fixture(scope="module")
def feed(client):
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    return response


def test_the_feed_is_atom_with_the_elements_a_reader_needs(feed):
    root = ET.fromstring(feed.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated", "author/a:name"):
        assert root.findtext(f"a:{name}", namespaces=NS), name
    self_link = [link.get("href") for link in root.findall("a:link", NS) if link.get("rel") == "self"]
    assert self_link == ["http://testserver/feed.atom"]
    for entry in entries(root):
        assert all(entry.values()), entry
        assert entry["id"].startswith("urn:uuid:")
    newest = entries(root)[0]["updated"]
    assert root.findtext("a:updated", namespaces=NS) == newest


def test_each_claims_changes_are_listed_newest_first_ending_at_its_status(feed, site):
    listed = entries(ET.fromstring(feed.content))
    stamps = [datetime.fromisoformat(e["updated"]) for e in listed]
    assert stamps == sorted(stamps, reverse=True)
    for row in site.printed["status"]:
        mine = [e for e in listed if e["link"] == f"http://testserver/p/{row['id']}"]
        assert mine, row["id"]
        assert mine[0]["title"].startswith(status_label(row["status"])), (row, mine[0])
        assert mine[0]["author"] == row["who"]
    # The manual claim: open first, then right by hand, with the note.
    history = site.printed["show typed-markup"]["history"]
    expected = [s["status"] for s in reversed(status_changes(history))]
    mine = [e for e in listed if e["link"].endswith("/p/typed-markup")]
    assert [e["title"].split(":")[0] for e in mine] == [
        "Right (was open)" if status == "right" else status_label(status) for status in expected]
    assert expected == ["right", "open"]
    assert mine[0]["summary"] == "Verdict given by hand: right: <b>checked by hand</b>"


def test_untrusted_text_is_escaped_and_reads_back_as_text(feed):
    raw = feed.text
    assert "<script" not in raw and "<b>" not in raw
    assert "&lt;script&gt;window.pwned=2&lt;/script&gt;A claim typed with markup" in raw
    titles = [e["title"] for e in entries(ET.fromstring(feed.content))]
    assert "Right (was open): <script>window.pwned=2</script>A claim typed with markup" in titles


def test_entry_ids_stay_the_same_between_reads_and_addresses(client, feed, site):
    again = client.get("/feed.atom", headers={"host": "elsewhere.example"})
    first, second = entries(ET.fromstring(feed.content)), entries(ET.fromstring(again.content))
    assert [e["id"] for e in first] == [e["id"] for e in second]
    assert len({e["id"] for e in first}) == len(first)
    assert second[0]["link"].startswith("http://elsewhere.example/p/")


def test_the_feed_is_capped_to_the_newest(site):
    from tracker.web.feed import atom, changes

    source = app_of(site).app.state.source
    every = changes(source)
    assert len(every) > 3
    newest = changes(source, most=3)
    assert newest == every[:3]
    assert len(ET.fromstring(atom(newest, "https://example.org/")).findall("a:entry", NS)) == 3


def test_with_a_public_url_the_feed_links_there(site):
    from starlette.testclient import TestClient

    app = app_of(site)
    source = app.app.state.source
    source.settings = source.settings.model_copy(
        update={"web": source.settings.web.model_copy(update={"public_url": "https://example.org/t"})})
    with TestClient(app) as client:
        root = ET.fromstring(client.get("/feed.atom").content)
    links = [link.get("href") for link in root.iter("{http://www.w3.org/2005/Atom}link")]
    assert "https://example.org/t/feed.atom" in links
    assert "https://example.org/t/p/typed-markup" in links
    assert all(link.startswith("https://example.org/t/") for link in links)
