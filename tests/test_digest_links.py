"""`[web] public_url`: when it is set, the digest links each claim it lists to its page
there, in the text and in the HTML; when it is not, the digest has no links at all. The
lean path's digest says the same as the full CLI's."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.test_digest_render import CIDS, evil_digest, sample_digest
from tests.test_quick import (
    OIL,
    add_series,
    database,
    full_cli,
    keep_made_on_prices,
    moved_since_yesterday,
    setup,  # noqa: F401 (a fixture)
    without_build_time,
)
from tracker.config import ConfigError, load_settings
from tracker.digest.render import preview_html, render_html, render_text
from tracker.quick import lean_answer

PUBLIC = "https://example.org/tracker"


class Anchors(HTMLParser):
    """Each link's href and the text inside it."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs)["href"]
            self.links.append((self._href, ""))

    def handle_endtag(self, tag):
        if tag == "a":
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)


def listed(digest) -> dict[str, str]:
    """Every claim the digest lists, by id."""
    lines = [*digest.resolved, *digest.flips, *digest.movers, *digest.open]
    return {line.id: line.claim for line in lines}


def test_without_a_public_url_the_digest_links_nowhere():
    digest = sample_digest()
    assert "/p/" not in render_text(digest)
    parser = Anchors()
    parser.feed(render_html(digest, CIDS))
    assert parser.links == []


def test_the_text_digest_gives_each_claims_page_under_its_entry():
    digest = sample_digest()
    text = render_text(digest, PUBLIC)
    for pid in listed(digest):
        assert f"{PUBLIC}/p/{pid}" in text, pid
    # Right under the claim it belongs to, whole (a link is never wrapped).
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == f"{PUBLIC}/p/jason-ipo-window")
    assert any("IPO window" in line for line in lines[at - 4:at])
    assert max(len(line) for line in lines if "/p/" not in line) <= 78
    # Without links, the text is as it was.
    assert re.sub(r"\n *https://example\.org/tracker/p/\S+", "", text) == render_text(digest)


def test_the_html_digest_links_each_claim_to_its_page():
    digest = sample_digest()
    for html in (render_html(digest, CIDS, PUBLIC), preview_html(digest, {}, PUBLIC + "/")):
        parser = Anchors()
        parser.feed(html)
        links = dict(parser.links)
        for pid, claim in listed(digest).items():
            assert links.get(f"{PUBLIC}/p/{pid}") == claim, pid


def test_a_claim_with_markup_in_its_link_stays_text():
    digest = evil_digest()
    digest.movers[0].id = 'odd id/"<b>'
    html = render_html(digest, CIDS, PUBLIC)
    assert f'href="{PUBLIC}/p/odd%20id%2F%22%3Cb%3E"' in html
    assert "<script>alert(1)</script>" not in html
    assert f"{PUBLIC}/p/odd%20id%2F%22%3Cb%3E" in render_text(digest, PUBLIC)


@pytest.mark.parametrize(("value", "kept"), [("", ""), (PUBLIC, PUBLIC),
                                             (PUBLIC + "/", PUBLIC)])
def test_public_url_is_optional_and_kept_without_a_trailing_slash(tmp_path, value, kept):
    path = tmp_path / "config.toml"
    path.write_text(f'[web]\npublic_url = "{value}"\n')
    assert load_settings(path).web.public_url == kept


@pytest.mark.parametrize("value", ["example.org/tracker", "ftp://example.org/", "https://"])
def test_a_public_url_that_is_not_http_is_one_line_naming_the_key(tmp_path, value):
    path = tmp_path / "config.toml"
    path.write_text(f'[web]\npublic_url = "{value}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert message.startswith(f"{path}: web.public_url: bad URL") and "\n" not in message


def test_the_lean_digest_links_as_the_full_clis_does(setup):  # noqa: F811
    with (setup / "config.toml").open("a") as config:
        config.write(f'\n[web]\npublic_url = "{PUBLIC}"\n')
    url = database(setup)
    add_series(url)
    moved_since_yesterday(url)
    keep_made_on_prices(url)
    full = full_cli("digest", "--preview", "full.html", "--text", cwd=setup)
    assert full.returncode == 0, full.stderr
    assert f"{PUBLIC}/p/{OIL}" in full.stdout  # the mover, and open
    assert f'href="{PUBLIC}/p/{OIL}"' in (setup / "full.html").read_text()
    lean = lean_answer(["digest", "--preview", "lean.html", "--text"])
    assert lean is not None, "the full run should have left a current cache"
    assert lean.stdout.replace("lean.html", "full.html") == full.stdout
    assert (without_build_time((setup / "lean.html").read_text())
            == without_build_time((setup / "full.html").read_text()))
