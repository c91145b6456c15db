"""The terminal chart of `tracker show`."""

from datetime import UTC, datetime

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
