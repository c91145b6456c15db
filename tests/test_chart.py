"""The terminal chart of `tracker show`."""

from datetime import UTC, date, datetime, timedelta

from tracker.chart import draw, step_values


def at(day):
    return datetime(2026, 1, day, tzinfo=UTC)


def test_a_value_holds_until_the_next_snapshot():
    values = step_values([(at(1), 0.2), (at(3), 0.8), (at(5), 0.4)], width=4)
    assert values == [0.2, 0.8, 0.8, 0.4]


def test_bars_scale_between_fixed_bounds_with_labels_and_dates():
    lines = draw([(at(1), 0.0), (at(6), 1.0), (at(11), 1.0)], width=10, height=4, low=0.0, high=1.0,
                 fmt=lambda v: f"{100 * v:.0f}%")
    assert lines[0].startswith("100% │") and lines[3].startswith("  0% │")
    top = lines[0].split("│")[1]
    bottom = lines[3].split("│")[1]
    # One column per day from day 2 to day 11, each showing the value at its end: 0%
    # through day 5, 100% from day 6 on.
    assert top == " " * 4 + "█" * 6
    assert bottom == " " * 4 + "█" * 6
    assert lines[-1].strip().startswith("2026-01-01") and lines[-1].endswith("2026-01-11")


def test_no_history_says_so():
    assert draw([]) == ["(no history yet)"]


def test_a_span_longer_than_the_history_marks_the_time_nothing_was_stored_for():
    lines = draw([(at(6), 0.5), (at(11), 1.0)], width=10, height=2, low=0.0, high=1.0,
                 span=(at(1), at(11)))
    top, axis, dates = lines[0].split("│")[1], lines[2], lines[3]
    assert axis.endswith("└" + "┄" * 4 + "─" * 6)  # days 2-5: before the first snapshot
    assert top == " " * 9 + "█"
    assert dates.strip().startswith("2026-01-01") and dates.endswith("2026-01-10")
    assert lines[-1].strip() == "┄ nothing stored for that time"


def test_a_value_held_to_the_end_of_the_span_draws_to_its_end():
    lines = draw([(at(1), 0.5)], width=10, height=2, low=0.0, high=1.0,
                 until=at(11), span=(at(1), at(11)))
    assert "┄" not in "".join(lines) and lines[1].split("│")[1] == "█" * 10


# ---- `tracker show`: the chart covers the claim's window ------------------------------------

def test_shows_chart_runs_from_the_claims_made_on_to_today(engine):
    from db import queries
    from db.reads import series_by_id
    from tracker.config import settings_from_dict
    from tracker.registry import load_registry
    from tracker.views.show import gather, render, show_spec

    claim = {"id": "odds", "who": "Tester", "made_on": date(2026, 1, 10), "claim": "It happens",
             "kind": "market", "series": "polymarket:it-happens", "side": "yes"}
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    queries.add_snapshots(engine, [
        {"prediction_id": "odds", "at": now - timedelta(hours=30 - i), "status": "on_track",
         "probability": p, "value": p, "value_at": None, "explanation": "x",
         "model": "market:polymarket", "inputs": None}
        for i, p in enumerate((0.55, 0.6, 0.7))])
    registry = load_registry(settings_from_dict({"registry": {"bundled": False},
                                                 "prediction": [claim]}))
    with queries.reading(engine) as run:
        found = gather(run, show_spec(registry, registry.get("odds"), {}), now,
                       series_by_id(run, ["polymarket:it-happens"]))
    assert found["chart_window"] == {"from": "2026-01-10", "to": "2026-11-30"}
    lines = render(found)
    chart = lines[lines.index("Probability history:") + 1:]
    assert chart[-2].split() == ["2026-01-10", "2026-11-30"]
    assert chart[-3].count("┄") > 50  # ten months before the first snapshot
    assert chart[-1].strip() == "┄ nothing stored for that time"
