"""A prediction after months of five-minute polls: `tracker show` and the digest read its
history thinned to what their charts draw, and show what the whole history shows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from db import queries
from jobs.digest import gather
from tracker.config import settings_from_dict
from tracker.digest.charts import chart_png
from tracker.digest.content import CHART_DAYS, CHART_SLICES
from tracker.registry import load_registry
from tracker.views.show import CHART_WIDTH, gather_prediction, render

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CLAIM = {"id": "odds", "who": "Tester", "made_on": date(2026, 1, 10), "claim": "It happens",
         "kind": "market", "series": "polymarket:it-happens", "side": "yes"}
SPIKE = 0.97


def snapshots(first: datetime, count: int, spike_at: int, touched: bool = False):
    """A snapshot every five minutes: odds that wander between 20% and 60% (on and off
    track around 50%), one snapshot at SPIKE (the status of the odds around it), and,
    when ``touched``, a last stretch right."""
    rng, p, rows = random.Random(7), 0.4, []
    for i in range(count):
        p = min(0.6, max(0.2, p + rng.choice((-1, 1)) * 0.004))
        shown = SPIKE if i == spike_at else p
        status = "on_track" if p >= 0.5 else "off_track"
        if touched and i >= count - 3:
            shown, status = 1.0, "right"
        rows.append({"prediction_id": "odds", "at": first + timedelta(minutes=5 * i),
                     "status": status, "probability": shown, "value": shown, "value_at": None,
                     "explanation": f"{status} at {shown:.3f}", "model": "market:polymarket",
                     "inputs": None})
    return rows


def registry():
    return load_registry(settings_from_dict({"registry": {"bundled": False}, "prediction": [CLAIM]}))


def test_show_reads_a_long_history_thinned_and_shows_what_the_whole_shows(engine):
    rows = snapshots(NOW - timedelta(days=200), 200 * 288, spike_at=30_000, touched=True)
    queries.add_snapshots(engine, rows)
    claims = registry()
    shown = gather_prediction(engine, claims, claims.get("odds"))

    changes = sum(1 for before, row in pairwise(rows) if row["status"] != before["status"])
    assert len(shown["history"]) <= changes + 1 + 4 * CHART_WIDTH + 1
    assert SPIKE in {s["probability"] for s in shown["history"]}  # extremes are kept
    whole = shown | {"history": [
        {"at": s.at, "status": s.status, "probability": s.probability, "value": s.value,
         "explanation": s.explanation} for s in queries.snapshot_history(engine, "odds")]}
    assert render(shown) == render(whole)  # every status change, and the same chart
    text = render(shown)
    assert text[text.index("Status history:") + 1 + changes].split()[3] == "right"
    top_row = text[text.index("Probability history:") + 1]
    assert top_row.endswith("█")  # the touch, drawn


def test_the_digest_charts_a_long_market_history_thinned_with_its_extremes(engine):
    first = NOW - timedelta(days=40)
    rows = snapshots(first, 40 * 288, spike_at=20 * 288 + 7)  # the spike twenty days ago
    queries.add_snapshots(engine, rows)
    latest = rows[-1]["probability"]
    shown = {"odds": {"status": rows[-1]["status"], "probability": latest - 0.1}}
    queries.record_digest(engine, "2026-11-29", NOW - timedelta(days=1), None, shown)
    settings = settings_from_dict({"registry": {"bundled": False}, "prediction": [CLAIM]})

    digest, _charts = gather(settings, registry(), engine, date(2026, 11, 30), NOW, charts=False)
    (line,) = digest.charted
    assert len(line.history) <= 4 * CHART_SLICES < len(rows) / 10
    assert line.history[0][0] >= NOW - timedelta(days=CHART_DAYS)
    assert max(p for _, p in line.history) == SPIKE
    assert line.history[-1] == (rows[-1]["at"], latest)
    day_ago = [r["probability"] for r in rows if r["at"] <= NOW - timedelta(days=1)][-1]
    assert line.change_day == latest - day_ago
    assert chart_png(line, NOW).startswith(b"\x89PNG")
