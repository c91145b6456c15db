"""Every digest carries everyone's expected hits over the year: read from the stored
snapshots by build_digest (the first digest too, with no digest before it to compare
with), drawn as a PNG attached inline, its legend a table of the figures, its people in
their colours and names escaped."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
from PIL import Image

from db import queries
from tracker.digest import charts
from tracker.digest.charts import charts_for, hits_png
from tracker.digest.content import HITS_CHART, Listed, build_digest
from tracker.digest.render import person_colour, preview_html, render_html
from tracker.digest.send import build_message
from tracker.hits import HitsChart, HitsLine

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
EVIL = "<b>Ann</b> & co"
PREDICTIONS = [Listed("ann-oil", EVIL, "Oil falls", True), Listed("bob-gold", "Bob", "Gold", True)]


def snap(pid, at, status, probability):
    return {"prediction_id": pid, "at": at, "status": status, "probability": probability,
            "explanation": "", "model": "test"}


def first_digest(engine):
    with queries.reading(engine) as run:
        return build_digest(run, PREDICTIONS, {}, series_ids=[],
                            interval_of=lambda _source: timedelta(minutes=5),
                            timezone="UTC", day=NOW.date(), now=NOW)


@pytest.fixture
def stored(engine):
    queries.add_snapshots(engine, [
        snap("ann-oil", JAN, "on_track", 0.5), snap("bob-gold", JAN, "off_track", 0.2),
        snap("ann-oil", datetime(2026, 6, 1, tzinfo=UTC), "right", 1.0),
        snap("bob-gold", datetime(2026, 11, 29, tzinfo=UTC), "off_track", 0.1),
    ])
    return engine


def test_the_first_digest_carries_the_chart_with_everyones_figures(stored):
    digest = first_digest(stored)
    assert digest.previous_day is None  # the first: no digest was sent before it
    assert [(line.who, line.now) for line in digest.hits.lines] == [(EVIL, pytest.approx(1.0)),
                                                                    ("Bob", pytest.approx(0.1))]
    board = {person.who: person.expected_hits for person in digest.scoreboard}
    assert {line.who: line.now for line in digest.hits.lines} == pytest.approx(board)

    images = charts_for(digest)
    assert set(images) == {HITS_CHART}  # no claim moved: the one chart is this one
    cids = {key: f"chart-{key}@tracker" for key in images}
    html = render_html(digest, cids)
    assert f'src="cid:{cids[HITS_CHART]}"' in html
    assert "Expected hits over the year" in html
    assert "&lt;b&gt;Ann&lt;/b&gt; &amp; co" in html and "<b>Ann</b>" not in html
    assert ">1.00</td>" in html and ">0.10</td>" in html
    assert f"background-color:{person_colour(1)};" in html  # Bob's colour: second by name

    message = message_from_bytes(build_message(
        "t@example.org", ["r@example.org"], "s", "text", html,
        {cids[key]: png for key, png in images.items()}, NOW).as_bytes())
    attached = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert [part["Content-ID"] for part in attached] == [f"<{cids[HITS_CHART]}>"]
    assert attached[0].get_payload(decode=True) == images[HITS_CHART]


def test_the_preview_inlines_it_too(stored):
    digest = first_digest(stored)
    html = preview_html(digest, charts_for(digest))
    assert html.count("data:image/png;base64,") == 1


def test_before_any_snapshot_there_is_nothing_to_draw(engine):
    digest = first_digest(engine)
    assert digest.hits is None and charts_for(digest) == {}
    assert "Expected hits over the year" not in render_html(digest, {})


def _rows_in_colour(image, x: int, colour: str) -> list[int]:
    want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return [y for y in range(image.height)
            if all(abs(a - b) <= 40 for a, b in zip(image.getpixel((x, y)), want, strict=True))]


def test_each_line_is_drawn_at_its_height_in_its_persons_colour():
    """Ann from 0.5 to 3 at mid-year; the scale runs to 4 (four steps of 1)."""
    times = [JAN, datetime(2026, 7, 1, tzinfo=UTC), NOW]
    hits = HitsChart(times, [HitsLine("Ann", 3, 2, [0.5, 3.0, 3.0]),
                             HitsLine("Bob", 1, 0, [0.0, 0.0, 0.25])])
    image = Image.open(io.BytesIO(hits_png(hits))).convert("RGB")
    assert image.size == (charts.HITS_WIDTH, charts.HITS_HEIGHT)
    span = (NOW - JAN).total_seconds()

    def x(at):
        return round(charts.HITS_LEFT + (charts.HITS_RIGHT - charts.HITS_LEFT)
                     * (at - JAN).total_seconds() / span)

    def y(value):
        return charts.HITS_BOTTOM - (charts.HITS_BOTTOM - charts.HITS_TOP) * value / 4

    for at, value in ((datetime(2026, 3, 1, tzinfo=UTC), 0.5), (datetime(2026, 9, 1, tzinfo=UTC), 3.0)):
        rows = _rows_in_colour(image, x(at), person_colour(0))
        assert rows and abs(sum(rows) / len(rows) - y(value)) <= 3, (at, value)


def test_one_moment_is_still_a_picture():
    """All snapshots taken at once (the first poll): the figures, held over a day."""
    hits = HitsChart([NOW], [HitsLine("Ann", 1, 0, [0.4])])
    image = Image.open(io.BytesIO(hits_png(hits))).convert("RGB")
    middle = (charts.HITS_LEFT + charts.HITS_RIGHT) // 2
    assert _rows_in_colour(image, middle, person_colour(0))
