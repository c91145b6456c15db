"""The digest rendered as text, as email HTML and as charts, from hand-made Digest objects:
what it must say, that untrusted text is escaped in HTML and verbatim in text, and that
the HTML loads nothing but its own cid: attachments."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from PIL import Image

from tracker.digest import charts, render
from tracker.digest.charts import chart_png, charts_for
from tracker.digest.content import MAX_CHARTS, Digest, Line, SourceProblem
from tracker.digest.render import (
    LINE_COLOURS,
    QuietBytecodeCache,
    environment,
    long_date,
    pct,
    points,
    preview_html,
    render_html,
    render_text,
    subject,
    wrap,
)
from tracker.scoreboard import PersonScore

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 07:00 in Los Angeles
EVIL = '<script>alert(1)</script> "quotes" & ampersands'


def history(*values: float, days: int = 30) -> list[tuple[datetime, float]]:
    step = timedelta(days=days) / max(1, len(values) - 1)
    start = NOW - timedelta(days=days, hours=2)
    return [(start + i * step, v) for i, v in enumerate(values)]


def sample_digest(previous_day: date | None = date(2026, 11, 24)) -> Digest:
    """A realistic day: four people, two calls resolved, two status changes, three moves
    (one of them also a status change), two failing sources and two stale series."""
    oil = Line(
        id="chamath-oil-45-before-65", who="Chamath",
        claim="WTI crude falls to $45 before it sees $65 again",
        status="right", probability=1.0,
        explanation="WTI crude touched 44.82 on 24 Nov, before any close at or above 65",
        previous_status="on_track", change_since_last=0.29,
        history=history(0.42, 0.45, 0.51, 0.48, 0.6, 0.66, 0.71, 1.0),
    )
    ipo = Line(
        id="jason-ipo-window", who="Jason",
        claim="The IPO window reopens: Renaissance IPO ETF ends the year up 20%",
        status="wrong", probability=0.0,
        explanation="Renaissance IPO ETF cannot recover +20% by 31 Dec (now -8.4% YTD)",
        previous_status="off_track", change_since_last=-0.07,
        history=history(0.2, 0.15, 0.12, 0.09, 0.07, 0.0),
    )
    fed = Line(
        id="sacks-fed-cuts-three", who="Sacks",
        claim="The Fed cuts rates three times in 2026",
        status="off_track", probability=0.38,
        explanation="Fed funds target (top) 4.00, needs 3.75 by 31 Dec; Kalshi 38%",
        previous_status="on_track", change_since_last=-0.16, change_day=-0.09,
        change_since_made=-0.21,
        history=history(0.7, 0.66, 0.61, 0.59, 0.62, 0.57, 0.54, 0.47, 0.38),
    )
    gold = Line(
        id="friedberg-gold-5000", who="Friedberg",
        claim="Gold closes above $5,000 an ounce at some point in 2026",
        status="no_data", probability=None,
        explanation="no gold price since 19 Nov: yahoo failing",
        previous_status="on_track",
        history=history(0.52, 0.55, 0.58),
    )
    bitcoin = Line(
        id="chamath-btc-150k", who="Chamath",
        claim="Bitcoin trades above $150,000 before the end of 2026",
        status="off_track", probability=0.11,
        explanation="Bitcoin 97,410, needs 150,000 (+54%); Polymarket 11%",
        change_since_last=-0.12, change_day=-0.04, change_since_made=-0.24,
        history=history(0.35, 0.31, 0.28, 0.3, 0.24, 0.23, 0.19, 0.11),
    )
    wealth = Line(
        id="jason-ca-wealth-tax", who="Jason",
        claim="California's billionaire wealth tax qualifies for the ballot",
        status="on_track", probability=0.64,
        explanation="Polymarket 'Will the CA billionaire tax make the ballot?' 64%",
        change_since_last=0.09, change_day=0.07, change_since_made=0.12,
        history=history(0.55, 0.52, 0.58, 0.55, 0.6, 0.64),
    )
    spx = Line(
        id="sacks-spx-7500", who="Sacks", claim="The S&P 500 ends 2026 above 7,500",
        status="on_track", probability=0.57, explanation="S&P 500 7,212 (-3.8% to go); model 57%",
        change_day=0.01, change_since_made=0.05,
    )
    huawei = Line(
        id="friedberg-huawei-winner", who="Friedberg",
        claim="Huawei is the year's biggest winner in AI chips", status="open",
        probability=None, explanation="manual: resolve by hand",
    )
    amzn = Line(
        id="chamath-amzn-underperform", who="Chamath",
        claim="Amazon underperforms the Nasdaq Composite in 2026",
        status="on_track", probability=0.71,
        explanation="Amazon +4.1% vs Nasdaq Composite +11.8% YTD; model 71%",
        change_day=0.0, change_since_made=0.18,
    )
    board = [
        PersonScore("Chamath", right=3, wrong=1, void=0, open=6, unpriced=1, right_by_hand=1,
                    expected_hits=5.62, edges=[0.58, 0.3, -0.4, 0.02], briers=[0, 0, 1, 0],
                    price_briers=[0.58 ** 2, 0.3 ** 2, 0.4 ** 2, 0.02 ** 2]),
        PersonScore("Sacks", right=2, wrong=1, void=1, open=5, expected_hits=4.1,
                    edges=[0.2, -0.55]),
        PersonScore("Friedberg", right=1, wrong=2, void=0, open=7, unpriced=2,
                    expected_hits=3.9, edges=[0.1]),
        PersonScore("Jason", right=0, wrong=3, void=0, open=6, wrong_by_hand=1,
                    expected_hits=2.45),
    ]
    return Digest(
        day=date(2026, 11, 25), timezone="America/Los_Angeles", generated_at=NOW,
        previous_day=previous_day, scoreboard=board,
        resolved=[oil, ipo], flips=[fed, gold], movers=[bitcoin, fed, wealth],
        open=[bitcoin, amzn, fed, spx, gold, huawei, wealth],
        failing=[
            SourceProblem("yahoo", NOW - timedelta(hours=27), 14,
                          "HTTP 429 Too Many Requests from query1.finance.yahoo.com"),
            SourceProblem("kalshi", NOW - timedelta(minutes=40), 1, None),
        ],
        stale_series=["fred:CPIAUCSL", "yahoo:GC=F"],
    )


def evil_digest() -> Digest:
    digest = sample_digest()
    bad = replace(digest.movers[0], claim=f"Claim {EVIL}", explanation=f"Because {EVIL}")
    digest.movers = [bad] + digest.movers[1:]
    digest.open = [bad] + digest.open[1:]
    digest.failing[0].last_error = f"Error {EVIL}"
    return digest


CIDS = {pid: f"chart-{pid}@tracker" for pid in
        ("chamath-oil-45-before-65", "jason-ipo-window", "sacks-fed-cuts-three",
         "friedberg-gold-5000", "chamath-btc-150k", "jason-ca-wealth-tax")}


# ---- formatting ------------------------------------------------------------------------

def test_formatting_helpers():
    assert long_date(date(2026, 11, 25)) == "Wednesday 25 November 2026"
    assert (pct(0.625), pct(None), pct(1.0)) == ("62%", "–", "100%")
    assert (points(0.07), points(-0.12), points(None), points(0.001)) == ("+7", "-12", "–", "0")


def test_subject_is_short_and_says_who_leads():
    text = subject(sample_digest())
    assert text == ("tracker 2026-11-25: 2 resolved, 2 status changes, 3 moved, "
                    "2 sources failing — Chamath leads")
    quiet = replace(sample_digest(), resolved=[], flips=[], movers=[], failing=[])
    assert subject(quiet) == "tracker 2026-11-25: no big moves — Chamath leads"
    first = replace(quiet, previous_day=None)
    assert "first digest" in subject(first)
    assert "\n" not in subject(replace(quiet, scoreboard=[PersonScore("A\nB", right=1)]))


# ---- both renderings say the same things -----------------------------------------------

@pytest.mark.parametrize("render", ["text", "html"])
def test_renderings_hold_the_whole_content(render):
    digest = sample_digest()
    out = render_text(digest) if render == "text" else render_html(digest, CIDS)
    assert "Wednesday 25 November 2026" in out
    for person in ("Chamath", "Sacks", "Friedberg", "Jason"):
        assert person in out
    assert "since your digest of Tuesday 24 November 2026" in out
    # newly resolved, status changes, moves
    assert "WTI crude falls to $45 before it sees $65 again" in out
    assert "The IPO window reopens" in out
    assert "The Fed cuts rates three times in 2026" in out
    assert "Bitcoin trades above $150,000 before the end of 2026" in out
    for move in ("-12", "-16", "+9"):
        assert move in out
    # every open prediction (in text a long claim wraps within its column)
    for line in digest.open:
        if render == "html":
            assert escape(line.claim) in out
        else:
            assert all(part in out for part in wrap(line.claim, 40))
    # failing sources and stale series, never hidden
    assert "yahoo" in out and "14 failures in a row" in out and "HTTP 429" in out
    assert "kalshi" in out and "1 failure in a row" in out
    assert "fred:CPIAUCSL" in out and "yahoo:GC=F" in out
    assert ("Moves are measured against the digest of Tuesday 24 November 2026; "
            "a move is listed past 5 points") in " ".join(out.split())


def test_text_scoreboard_and_open_table_are_aligned_and_fit_78_columns():
    text = render_text(sample_digest())
    assert max(len(line) for line in text.splitlines()) <= 78
    board = text[text.index("SCOREBOARD"):text.index("WHAT CHANGED")].splitlines()
    header = next(line for line in board if line.strip().startswith("Who"))
    chamath = next(line for line in board if line.strip().startswith("Chamath"))
    assert len(header) == len(chamath)  # right-aligned columns end together
    # Ranked by expected hit rate: (3 + the chances of the 5 priced open calls) / 9.
    assert chamath.split() == ["Chamath", "62%", "(n=9)", "2/1", "1/0", "0", "6", "1",
                               "0.25/0.15", "(n=4)"]
    jason = next(line for line in board if line.strip().startswith("Jason"))
    assert jason.split()[1:5] == ["27%", "(n=9)", "0/2", "0/1"]
    table = text[text.index("OPEN PREDICTIONS"):text.index("SOURCES")].splitlines()
    header = next(line for line in table if line.strip().startswith("Claim"))
    sacks = next(line for line in table if "The Fed cuts rates" in line)
    huawei = next(line for line in table if "Huawei" in line)
    assert len(header) == len(sacks) == len(huawei)  # numbers right-aligned under headers
    assert sacks.split()[-5:] == ["Off", "track", "38%", "-9", "-21"]
    assert huawei.split()[-4:] == ["Open", "–", "–", "–"]
    assert "  end of 2026" in table[table.index(
        next(line for line in table if "Bitcoin trades above" in line)) + 1]  # claim wraps


def test_first_digest_wording():
    digest = sample_digest(previous_day=None)
    digest.resolved, digest.flips, digest.movers = [], [], []
    for out in (render_text(digest), render_html(digest, {})):
        assert "first digest" in out
        assert "since your digest" not in out
    assert max(len(line) for line in render_text(digest).splitlines()) <= 78


def test_an_empty_digest_renders():
    empty = Digest(day=date(2026, 1, 1), timezone="UTC", generated_at=NOW, previous_day=None,
                   scoreboard=[], resolved=[], flips=[], movers=[], open=[], failing=[],
                   stale_series=[])
    for out in (render_text(empty), render_html(empty, {})):
        assert "Thursday 1 January 2026" in out
        assert "No scored predictions yet." in out and "No open predictions." in out
    assert subject(empty) == "tracker 2026-01-01: first digest"
    assert charts_for(empty) == {}


def test_nothing_moved_is_said_not_left_blank():
    digest = replace(sample_digest(), resolved=[], flips=[], movers=[], failing=[],
                     stale_series=[])
    for out in (render_text(digest), render_html(digest, {})):
        assert "Nothing resolved, changed status or moved past 5 points" in out
        assert "Every source answered" in out


# ---- untrusted text --------------------------------------------------------------------

def test_untrusted_text_is_escaped_in_html_and_verbatim_in_text():
    digest = evil_digest()
    html = render_html(digest, CIDS)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;quotes&#34; &amp; ampersands" in html
    assert '"quotes" & ampersands' not in html

    text = render_text(digest)
    assert "<script>alert(1)</script>" in text
    assert '"quotes" & ampersands' in text
    assert "&lt;" not in text and "&amp;" not in text and "&#34;" not in text


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.loads: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if tag == "img" and name == "src":
                self.images.append(value)
            if name in ("src", "href", "background", "srcset") or (
                    name == "style" and "url(" in (value or "")):
                self.loads.append((tag, name, value or ""))


def test_html_loads_nothing_but_its_own_attachments():
    digest = sample_digest()
    html = render_html(digest, CIDS)
    parsed = _Resources()
    parsed.feed(html)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<script" not in html.lower() and "<style" not in html.lower()
    assert "script" not in parsed.tags and "link" not in parsed.tags
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*https?://", html, re.IGNORECASE)
    assert "url(" not in html
    assert parsed.images, "the movers' charts are shown"
    for src in parsed.images:
        assert src.startswith("cid:") and src[4:] in CIDS.values()
    for tag, name, value in parsed.loads:
        assert tag == "img" and value.startswith("cid:"), (tag, name, value)
    # each chart once, even for a prediction both flipped and moved
    assert len(parsed.images) == len(set(parsed.images)) == len(CIDS)


def test_html_without_charts_has_no_images():
    parsed = _Resources()
    parsed.feed(render_html(sample_digest(), {}))
    assert parsed.images == []


def test_html_status_has_colour_and_words():
    html = render_html(sample_digest(), CIDS)
    for word, colour in (("Right", "#116329"), ("Wrong", "#a40e26"), ("Off track", "#7d4e00"),
                         ("No data", "#57606a"), ("Open", "#0550ae"), ("On track", "#0f5132")):
        assert re.search(rf"color:{colour};[^>]*>{word}</span>", html), word


def test_preview_inlines_charts_as_data_uris():
    digest = sample_digest()
    charts = {pid: b"\x89PNG fake " + pid.encode() for pid in CIDS}
    html = preview_html(digest, charts)
    parsed = _Resources()
    parsed.feed(html)
    assert parsed.images and all(src.startswith("data:image/png;base64,")
                                 for src in parsed.images)
    first = parsed.images[0].split(",", 1)[1]
    assert base64.b64decode(first).startswith(b"\x89PNG")
    assert "cid:" not in html


# ---- charts ----------------------------------------------------------------------------

def test_charts_for_draws_only_the_charted_lines():
    digest = sample_digest()
    charts = charts_for(digest)
    assert set(charts) == {line.id for line in digest.charted}
    assert "sacks-spx-7500" not in charts  # open, not moved: no chart
    for png in charts.values():
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (600, 180)


def test_a_chart_with_two_points_works():
    line = Line(id="two", who="Ann", claim="c", status="on_track", probability=0.6,
                explanation="", history=history(0.4, 0.6, days=1))
    assert chart_png(line).startswith(b"\x89PNG")


def _rows_in_colour(image, x: int, colour: str) -> list[int]:
    want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return [y for y in range(image.height)
            if all(abs(a - b) <= 40 for a, b in zip(image.getpixel((x, y)), want, strict=True))]


def _height(p: float) -> float:
    """Where the chart's fixed scale puts probability ``p``, in pixels from the top."""
    return charts.TOP + (charts.BOTTOM - charts.TOP) * (charts.HIGH - 100 * p) / (
        charts.HIGH - charts.LOW)


def test_a_chart_draws_each_value_at_its_height_in_the_status_colour():
    line = Line(id="drawn", who="Ann", claim="c", status="wrong", probability=0.8,
                explanation="", history=history(0.2, 0.2, 0.8, 0.8, days=30))
    image = Image.open(io.BytesIO(chart_png(line, NOW))).convert("RGB")
    width = charts.RIGHT - charts.LEFT
    early, late = charts.LEFT + width // 4, charts.LEFT + 7 * width // 8  # 20%, then 80%
    for x, p in ((early, 0.2), (late, 0.8)):
        rows = _rows_in_colour(image, x, LINE_COLOURS["wrong"])
        assert rows and abs(sum(rows) / len(rows) - _height(p)) <= 2
        below, above = image.getpixel((x, round(_height(p / 2)))), image.getpixel((x, 5))
        assert above == (255, 255, 255) and below != above  # tinted under the line only


def test_a_line_without_enough_history_is_not_charted():
    digest = sample_digest()
    digest.movers[0].history = digest.movers[0].history[:1]
    assert digest.movers[0].id not in charts_for(digest)


def test_a_day_when_everything_moves_charts_the_biggest_moves_only():
    """Every move is listed; the charts, which the email carries as attachments, are the
    first MAX_CHARTS: resolutions and flips, then the biggest moves."""
    digest = sample_digest()
    many = [Line(id=f"m{i}", who="Ann", claim=f"claim {i}", status="open", probability=0.5,
                 explanation="", change_since_last=0.3 - i / 100, history=history(0.2, 0.5, days=3))
            for i in range(MAX_CHARTS + 5)]
    digest.movers = many
    charted = [line.id for line in digest.charted]
    assert len(charted) == MAX_CHARTS == len(charts_for(digest))
    first = [line.id for line in digest.resolved + digest.flips if len(line.history) >= 2]
    assert first and charted == first + [f"m{i}" for i in range(MAX_CHARTS - len(first))]
    text = render_text(digest)
    assert all(f"claim {i}" in text for i in range(MAX_CHARTS + 5))  # all listed


def test_a_tie_at_the_top_is_said_as_a_tie():
    digest = sample_digest()
    digest.scoreboard = [PersonScore("Ann", right=1, open=1, expected_hits=1.5),
                         PersonScore("Bob", right=1, open=1, expected_hits=1.5)]
    assert subject(digest).endswith("— level at the top")
    assert "Ann and Bob are level at an expected hit rate of 75% (n=2 each)." in render_text(digest)


def test_the_leader_is_the_best_rate_not_the_most_hits():
    digest = sample_digest()
    digest.scoreboard = [PersonScore("Bob", right=2, expected_hits=2.0),
                         PersonScore("Ann", right=3, wrong=3, expected_hits=3.0)]
    assert subject(digest).endswith("— Bob leads")
    assert ("Bob leads with an expected hit rate of 100% (n=2): 2 right, 0 wrong, 0 open."
            in render_text(digest))


def test_a_stale_market_is_named_by_its_question_quoted_and_escaped_in_html():
    digest = replace(sample_digest(), stale_series=["polymarket:evil"],
                     series_names={"polymarket:evil": f"\u201cWill {EVIL}?\u201d"})
    assert f"polymarket:evil (\u201cWill {EVIL}?\u201d)" in render_text(digest)
    html = render_html(digest, CIDS)
    assert "<script" not in html.lower() and "&lt;script&gt;" in html


# ---- compiled templates ------------------------------------------------------------------

def test_a_compiled_template_is_kept_and_read_back_without_compiling(tmp_path, monkeypatch):
    digest = sample_digest()
    expected = render_text(digest), render_html(digest, CIDS)
    monkeypatch.setattr(render, "ENV", environment(QuietBytecodeCache(str(tmp_path))))
    assert (render_text(digest), render_html(digest, CIDS)) == expected
    assert len(list(tmp_path.iterdir())) == 2  # digest.txt and digest.html, compiled

    again = environment(QuietBytecodeCache(str(tmp_path)))
    monkeypatch.setattr(again, "compile", lambda *_a, **_k: pytest.fail("compiled again"))
    monkeypatch.setattr(render, "ENV", again)
    assert (render_text(digest), render_html(digest, CIDS)) == expected


def test_a_digest_renders_where_compiled_templates_cannot_be_kept(tmp_path, monkeypatch):
    digest = sample_digest()
    expected = render_text(digest)
    monkeypatch.setattr(render, "ENV", environment(QuietBytecodeCache(str(tmp_path / "gone"))))
    assert render_text(digest) == expected
    assert not (tmp_path / "gone").exists()
