"""outperform and rank on hand-made series: resolved at the deadline, on or off track
while open, the spread model against its closed form, equal-weight baskets, the rank
simulation, and missing, stale or late-starting data."""

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.evalhelp import daily, prediction
from tracker.evaluate import SeriesInput, Status, evaluate
from tracker.sources.base import Point

JAN1 = date(2026, 1, 1)
DEADLINE = date(2026, 2, 15)  # index 45 of a daily series from JAN1
AFTER = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # past DEADLINE
COPPER, GOLD, SILVER, SPX, OIL = "yahoo:HG=F", "yahoo:GC=F", "yahoo:SI=F", "yahoo:^GSPC", "yahoo:CL=F"
LABELS = {COPPER: "copper", GOLD: "gold", SILVER: "silver", SPX: "S&P 500", OIL: "WTI crude"}


NAMES = {"copper": COPPER, "gold": GOLD, "silver": SILVER, "spx": SPX, "oil": OIL}


def feed(stale=(), **points_by_id):
    """Inputs with readable names, by NAMES key: ``feed(copper=points, spx=points)``."""
    out = {}
    for key, points in points_by_id.items():
        series_id = NAMES[key]
        out[series_id] = SeriesInput(
            series_id, points, stale=key in stale, label=LABELS[series_id]
        )
    return out


def years_to_end_of_2026(now):
    return (datetime(2027, 1, 1, tzinfo=UTC) - now).total_seconds() / (365.25 * 86400)


def phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


# --- outperform ------------------------------------------------------------------------


def outperform(**extra):
    fields = {"series": COPPER, "benchmark": SPX, "start": JAN1} | extra
    return prediction(kind="outperform", **fields)


def at_deadline(value_then, value_after):
    """Daily from JAN1 to 28 Feb: 100 until the deadline, ``value_then`` on it, then
    ``value_after`` (so using the latest close instead of the deadline's would show)."""
    return daily(JAN1, [100.0] * 45 + [value_then] + [value_after] * 13)


def test_outperform_ahead_at_the_deadline_is_right():
    data = feed(copper=at_deadline(124.1, 90.0), spx=at_deadline(109.8, 150.0))
    result = evaluate(outperform(deadline=DEADLINE), data, AFTER)
    assert result.status is Status.RIGHT
    assert result.probability == 1.0
    assert result.value == pytest.approx(0.143)
    assert result.value_at == datetime(2026, 2, 15, tzinfo=UTC)
    assert result.explanation == (
        "copper +24.1% vs S&P 500 +9.8% from 2026-01-01 to 2026-02-15: ahead by 14.3 percentage points"
    )
    assert result.inputs["closes"][COPPER] == {"from": ["2026-01-01", 100.0],
                                               "to": ["2026-02-15", 124.1]}


def test_outperform_under_is_the_mirror():
    data = feed(copper=at_deadline(124.1, 90.0), spx=at_deadline(109.8, 150.0))
    result = evaluate(outperform(deadline=DEADLINE, direction="under"), data, AFTER)
    assert result.status is Status.WRONG
    assert result.probability == 0.0
    assert "ahead by 14.3 percentage points (needed to finish behind)" in result.explanation
    lagging = feed(copper=at_deadline(101.0, 200.0), spx=at_deadline(109.8, 100.0))
    assert evaluate(outperform(deadline=DEADLINE, direction="under"), lagging, AFTER).status \
        is Status.RIGHT
    assert evaluate(outperform(deadline=DEADLINE), lagging, AFTER).status is Status.WRONG


def test_a_tie_beats_nothing():
    data = feed(copper=at_deadline(110.0, 90.0), spx=at_deadline(110.0, 150.0))
    for direction in ("over", "under"):
        result = evaluate(outperform(deadline=DEADLINE, direction=direction), data, AFTER)
        assert result.status is Status.WRONG
        assert "level" in result.explanation


def alternating(base, jump, step, count):
    """``base`` on JAN1, ``jump`` the next day, then log moves of +step, -step, ...
    so the last returns are all exactly +-step."""
    return daily(JAN1, [base] + [jump * math.exp(step * (i % 2)) for i in range(count - 1)])


def test_outperform_probability_is_the_closed_form_of_the_spread_model():
    # copper moves +-1% a day and the S&P +-0.4% a day in step: the spread moves +-0.6%
    # a day, every day, so its realised variance per year is 0.006^2 * 365.25 exactly.
    copper = alternating(100.0, 110.0, 0.01, 70)  # last point 11 March
    spx = alternating(100.0, 104.0, 0.004, 70)
    now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    data = feed(copper=copper, spx=spx)
    over = evaluate(outperform(deadline=date(2026, 12, 31)), data, now)

    side, bench = copper[-1].value / 100 - 1, spx[-1].value / 100 - 1
    log_spread = math.log(1 + side) - math.log(1 + bench)
    sigma = 0.006 * math.sqrt(365.25)
    expected = phi(log_spread / (sigma * math.sqrt(years_to_end_of_2026(now))))
    assert 0.5 < expected < 0.99  # a case where the model matters
    assert over.probability == pytest.approx(expected, rel=1e-9)
    assert over.status is Status.ON_TRACK
    assert over.model == "normal-spread"
    assert over.value == pytest.approx(side - bench)
    assert over.inputs["sigma"] == pytest.approx(sigma, abs=1e-6)
    assert over.inputs["returns"] == 60
    assert over.explanation.endswith(
        f"ahead by {100 * (side - bench):.1f} percentage points; "
        f"{100 * expected:.0f}% chance it stays ahead to 2026-12-31"
    )

    under = evaluate(outperform(deadline=date(2026, 12, 31), direction="under"), data, now)
    assert under.probability == pytest.approx(1 - expected, rel=1e-9)
    assert under.status is Status.OFF_TRACK
    assert "chance it ends behind by 2026-12-31" in under.explanation


def test_outperform_behind_with_little_time_left_is_off_track():
    copper = alternating(100.0, 95.0, 0.01, 70)
    spx = alternating(100.0, 104.0, 0.004, 70)
    now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    result = evaluate(outperform(deadline=date(2026, 3, 20)), feed(copper=copper, spx=spx), now)
    assert result.status is Status.OFF_TRACK
    assert result.probability < 0.01
    assert "behind by" in result.explanation and "chance it ends ahead by" in result.explanation


def test_a_spread_that_has_not_moved_is_decided_by_its_sign():
    copper = daily(JAN1, [100.0] + [120.0] * 69)
    spx = daily(JAN1, [100.0] + [110.0] * 69)
    now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    result = evaluate(outperform(), feed(copper=copper, spx=spx), now)
    assert result.probability == 1.0
    assert result.status is Status.ON_TRACK
    under = evaluate(outperform(direction="under"), feed(copper=copper, spx=spx), now)
    assert under.probability == 0.0 and under.status is Status.OFF_TRACK


def test_without_common_dates_there_is_no_probability_and_the_standing_decides():
    def every_other(first_offset, values):
        return [Point(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=first_offset + 2 * i), v)
                for i, v in enumerate(values)]

    copper = every_other(0, [100.0, 104, 108, 112])  # 1, 3, 5, 7 January
    spx = every_other(-1, [100.0, 101, 102, 103])  # 31 Dec, 2, 4, 6 January
    now = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
    result = evaluate(outperform(), feed(copper=copper, spx=spx), now)
    assert result.probability is None
    assert result.status is Status.ON_TRACK
    assert "no common price history" in result.explanation


def test_baskets_are_equal_weight_means_of_simple_returns():
    # copper +20% from $10, gold +10% from $1,000: equal weight gives +15% (a basket of
    # one unit each would give +10.1%, a mean of log returns +14.3%).
    copper = daily(JAN1, [10.0, 11.0, 12.0])
    gold = daily(JAN1, [1000.0, 1050.0, 1100.0])
    spx = daily(JAN1, [100.0, 102.0, 105.0])
    oil = daily(JAN1, [60.0, 58.0, 57.0])
    now = datetime(2026, 1, 3, 18, 0, tzinfo=UTC)

    one = evaluate(
        outperform(series=None, basket=[COPPER, GOLD]), feed(copper=copper, gold=gold, spx=spx), now
    )
    assert one.inputs["side_return"] == pytest.approx(0.15)
    assert one.value == pytest.approx(0.15 - 0.05)
    assert one.explanation.startswith("basket (copper, gold) +15.0% vs S&P 500 +5.0%")

    both = evaluate(
        outperform(series=None, basket=[COPPER, GOLD], benchmark=[SPX, OIL]),
        feed(copper=copper, gold=gold, spx=spx, oil=oil),
        now,
    )
    assert both.inputs["benchmark_return"] == pytest.approx(0.0)  # +5% and -5%
    assert both.value == pytest.approx(0.15)
    assert "vs basket (S&P 500, WTI crude) +0.0%" in both.explanation


def test_outperform_missing_stale_or_late_series_read_no_data():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    points = daily(JAN1, [100.0 + i for i in range(59)])

    missing = evaluate(outperform(), feed(copper=points), now)
    assert missing.status is Status.NO_DATA
    assert missing.explanation == f"no data for {SPX} yet"

    stale = evaluate(outperform(), feed(stale={"spx"}, copper=points, spx=points), now)
    assert stale.status is Status.NO_DATA
    assert stale.explanation == "S&P 500 is stale: last point 2026-02-28"

    late = evaluate(outperform(), feed(copper=points, spx=points[4:]), now)
    assert late.status is Status.NO_DATA
    assert late.explanation == (
        "S&P 500 has no close on or before the start 2026-01-01 (first point 2026-01-05)"
    )

    both = evaluate(outperform(), feed(copper=[], spx=points[4:]), now)
    assert "copper" in both.explanation and "S&P 500" in both.explanation


def test_outperform_past_deadline_without_data_up_to_it_is_no_data():
    data = feed(copper=at_deadline(124.1, 90.0), spx=daily(JAN1, [100.0] * 35))  # to 4 Feb
    result = evaluate(outperform(deadline=DEADLINE), data, AFTER)
    assert result.status is Status.NO_DATA
    assert result.explanation == "deadline 2026-02-15 passed; S&P 500 data stop before it"


def test_a_series_gone_stale_after_the_deadline_still_resolves():
    data = feed(stale={"spx"}, copper=at_deadline(124.1, 90.0), spx=at_deadline(109.8, 150.0))
    assert evaluate(outperform(deadline=DEADLINE), data, AFTER).status is Status.RIGHT


# --- rank ------------------------------------------------------------------------------


def rank(series=COPPER, universe=(GOLD, SILVER), **extra):
    fields = {"series": series, "universe": list(universe), "start": JAN1} | extra
    return prediction(kind="rank", **fields)


def metals_at_deadline():
    # at the deadline copper +24.1%, gold +31.0%, silver -5.0%; afterwards the order flips
    return feed(
        copper=at_deadline(124.1, 200.0),
        gold=at_deadline(131.0, 50.0),
        silver=at_deadline(95.0, 120.0),
    )


def test_rank_resolves_from_the_closes_at_the_deadline():
    data = metals_at_deadline()
    gold = evaluate(rank(series=GOLD, universe=[COPPER, SILVER], deadline=DEADLINE), data, AFTER)
    assert gold.status is Status.RIGHT and gold.probability == 1.0
    assert gold.value == 1.0
    assert gold.explanation == (
        "gold finished 1st of 3 by return from 2026-01-01 to 2026-02-15, +31.0% "
        "(copper next, +24.1%)"
    )
    copper = evaluate(rank(deadline=DEADLINE), data, AFTER)
    assert copper.status is Status.WRONG and copper.probability == 0.0
    assert copper.value == 2.0
    assert "copper finished 2nd of 3" in copper.explanation
    assert "(gold led, +31.0%)" in copper.explanation


def test_rank_worst_mirrors_best_at_the_deadline():
    data = metals_at_deadline()
    silver = evaluate(
        rank(series=SILVER, universe=[COPPER, GOLD], position="worst", deadline=DEADLINE),
        data, AFTER,
    )
    assert silver.status is Status.RIGHT
    assert silver.value == 3.0  # place counted from the best
    copper = evaluate(rank(position="worst", deadline=DEADLINE), data, AFTER)
    assert copper.status is Status.WRONG
    assert "(silver trailed, -5.0%)" in copper.explanation


def wiggle(first, last_value, count, size=0.001):
    """From 100 on ``first``, straight (in log) to ``last_value``, with tiny alternating
    wiggles on top."""
    drift = math.log(last_value / 100) / (count - 1)
    return daily(first, [100 * math.exp(drift * i + size * (i % 2)) for i in range(count)])


OPEN_NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def far_apart():
    # copper +50% by 28 Feb, gold and silver near flat, all with tiny moves
    return feed(
        copper=wiggle(JAN1, 150.0, 59),
        gold=wiggle(JAN1, 101.0, 59),
        silver=wiggle(JAN1, 99.0, 59),
    )


def test_a_series_far_ahead_with_tiny_volatility_is_almost_sure_to_end_best():
    leader = evaluate(rank(deadline=date(2026, 3, 10)), far_apart(), OPEN_NOW)
    assert leader.status is Status.ON_TRACK
    assert leader.probability > 0.99
    assert leader.value == 1.0
    assert leader.model == "bootstrap-rank"
    assert leader.inputs["paths"] == 5000 and leader.inputs["seed"] == 20260101
    assert leader.explanation.startswith(
        "copper is 1st of 3 by return since 2026-01-01, +50.0% (gold next, +1.0%)"
    )
    assert leader.explanation.endswith("% chance it ends best")

    laggard = evaluate(rank(series=SILVER, universe=[COPPER, GOLD], deadline=date(2026, 3, 10)),
                       far_apart(), OPEN_NOW)
    assert laggard.status is Status.OFF_TRACK
    assert laggard.probability < 0.01
    assert laggard.value == 3.0
    assert "(copper leads, +50.0%); 0% chance it ends best" in laggard.explanation


def random_walks(invert=False):
    """Three series of 251 daily closes, each moving 1% a day on independent-looking
    normal draws, ending 28 Feb 2026; ``invert`` gives 1/price (every return reversed)."""
    rng = random.Random(5)
    first = date(2026, 2, 28) - timedelta(days=250)
    walks = {}
    for key in ("copper", "gold", "silver"):
        closes, value = [], 100.0
        for _ in range(251):
            closes.append(1 / value if invert else value)
            value *= math.exp(rng.gauss(0, 0.01))
        walks[key] = daily(first, closes)
    return feed(**walks)


LEVEL_START = date(2026, 2, 28)  # the last close: every series starts level


def test_rank_simulation_is_reproducible():
    data = random_walks()
    first = evaluate(rank(start=LEVEL_START), data, OPEN_NOW)
    second = evaluate(rank(start=LEVEL_START), data, OPEN_NOW)
    assert first.probability == second.probability
    assert first.inputs == second.inputs


def test_three_level_series_of_equal_volatility_each_end_best_about_a_third_of_the_time():
    data = random_walks()
    ids = [COPPER, GOLD, SILVER]
    best, worst = [], []
    for me in ids:
        rivals = [i for i in ids if i != me]
        best.append(evaluate(rank(me, rivals, start=LEVEL_START), data, OPEN_NOW))
        worst.append(evaluate(rank(me, rivals, start=LEVEL_START, position="worst"),
                              data, OPEN_NOW))
    for result in best + worst:
        assert 0.25 < result.probability < 0.42
        assert result.status is Status.OFF_TRACK
        assert result.value == 1.0  # all level: they share first place
    assert best[0].inputs["steps"] == 305  # a draw a calendar day: 1 Mar 15:00 to 31 Dec
    # the same draws for every series: exactly one of the three ends best on each path
    assert sum(r.probability for r in best) == pytest.approx(1.0, abs=0.002)
    assert sum(r.probability for r in worst) == pytest.approx(1.0, abs=0.002)


def test_rank_worst_mirrors_best_on_reversed_returns():
    start = date(2025, 7, 1)  # copper leads by then
    up = evaluate(rank(start=start), random_walks(), OPEN_NOW)
    down = evaluate(rank(start=start, position="worst"), random_walks(invert=True), OPEN_NOW)
    assert up.value == 1.0 and down.value == 3.0
    assert 0.05 < up.probability < 0.95
    assert down.probability == pytest.approx(up.probability, abs=0.0005)
    assert down.status is up.status
    assert down.explanation.endswith("chance it ends worst")


def test_rank_simulation_keeps_series_moving_together():
    # gold is copper 2% lower since the day after the start, so within the history the two
    # move exactly together: gold can never catch copper, and copper's chance of ending
    # best is its chance of beating silver alone. Drawing the series' days independently
    # would let gold pass copper on many paths.
    rng = random.Random(11)
    first = date(2026, 2, 28) - timedelta(days=259)
    copper, silver, value, other = [], [], 100.0, 100.0
    for _ in range(260):
        copper.append(value)
        silver.append(other)
        value *= math.exp(rng.gauss(0, 0.01))
        other *= math.exp(rng.gauss(0, 0.01))
    gold = [copper[0]] + [0.98 * c for c in copper[1:]]
    data = feed(copper=daily(first, copper), gold=daily(first, gold), silver=daily(first, silver))

    three = evaluate(rank(start=first), data, OPEN_NOW)
    two = evaluate(rank(universe=[SILVER], start=first), data, OPEN_NOW)
    shadow = evaluate(rank(series=GOLD, universe=[COPPER, SILVER], start=first), data, OPEN_NOW)
    assert 0.05 < three.probability < 0.95
    assert three.probability == pytest.approx(two.probability, abs=0.0005)
    assert shadow.probability == 0.0


def test_rank_missing_stale_or_late_series_read_no_data():
    points = daily(JAN1, [100.0 + i for i in range(59)])
    missing = evaluate(rank(), feed(copper=points, gold=points), OPEN_NOW)
    assert missing.status is Status.NO_DATA
    assert missing.explanation == f"no data for {SILVER} yet"

    stale = evaluate(rank(), feed(stale={"gold"}, copper=points, gold=points, silver=points),
                     OPEN_NOW)
    assert stale.status is Status.NO_DATA
    assert stale.explanation == "gold is stale: last point 2026-02-28"

    late = evaluate(rank(), feed(copper=points[10:], gold=points, silver=points), OPEN_NOW)
    assert late.status is Status.NO_DATA
    assert late.explanation.startswith("copper has no close on or before the start 2026-01-01")

    short = feed(copper=at_deadline(124.1, 90.0), gold=at_deadline(131.0, 50.0),
                 silver=daily(JAN1, [100.0] * 30))
    result = evaluate(rank(deadline=DEADLINE), short, AFTER)
    assert result.status is Status.NO_DATA
    assert result.explanation == "deadline 2026-02-15 passed; silver data stop before it"


def monthly(values):
    """Points on the 1st of each month from December 2025, as FRED dates monthly data."""
    return [
        Point(datetime(2025 + (11 + i) // 12, (11 + i) % 12 + 1, 1, tzinfo=UTC), v)
        for i, v in enumerate(values)
    ]


def test_monthly_series_resolve_once_the_deadline_month_is_released():
    homes = prediction(kind="outperform", series=COPPER, benchmark=SPX, direction="under",
                       start=date(2025, 12, 31), deadline=date(2026, 12, 31))
    after = datetime(2027, 3, 1, tzinfo=UTC)
    # December 2026 (dated 2026-12-01) is the month holding the deadline: it decides.
    released = feed(copper=monthly([100.0] * 12 + [97.0]), spx=monthly([100.0] * 12 + [103.0]))
    assert evaluate(homes, released, after).status is Status.RIGHT
    # Only up to November 2026: the deadline month is not out yet.
    pending = feed(copper=monthly([100.0] * 12), spx=monthly([100.0] * 12))
    assert evaluate(homes, pending, after).status is Status.NO_DATA


# --- a basket ranked in a universe, monthly series among daily ones --------------------


def test_a_basket_is_ranked_against_the_universe_without_its_own_members():
    data = metals_at_deadline() | feed(oil=at_deadline(110.0, 110.0))
    metals = prediction(kind="rank", basket=[COPPER, GOLD], universe=[COPPER, GOLD, SILVER, OIL],
                        start=JAN1, deadline=DEADLINE, universe_name="metals")
    result = evaluate(metals, data, AFTER)
    # (24.1% + 31.0%) / 2 = 27.55%: ahead of silver (-5%) and oil (+10%); its own members
    # (gold at +31%) are not its rivals.
    assert result.status is Status.RIGHT
    assert result.explanation.startswith(
        "basket (copper, gold) finished 1st of 3 by return among metals from 2026-01-01")
    assert "+27.6%" in result.explanation


def test_a_monthly_series_among_daily_ones_is_still_priced():
    """Case-Shiller (monthly, dated the 1st) against daily prices: the common dates are too
    few, so the simulation steps month by month."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rng = random.Random(7)
    weekdays = [start + timedelta(days=i) for i in range(500)
                if (start + timedelta(days=i)).weekday() < 5]
    days = [Point(ts, 100.0 * math.exp(0.01 * rng.gauss(0, 1))) for ts in weekdays]
    months = [Point(datetime(2025 + (m // 12), m % 12 + 1, 1, tzinfo=UTC), 300.0 + m)
              for m in range(16)]
    homes = prediction(kind="rank", series="fred:CSUSHPISA", universe=[SPX], position="worst",
                       start=date(2025, 12, 31))
    data = {"fred:CSUSHPISA": SeriesInput("fred:CSUSHPISA", months, label="US homes"),
            SPX: SeriesInput(SPX, days, label="S&P 500")}
    result = evaluate(homes, data, datetime(2026, 4, 20, tzinfo=UTC))
    assert result.probability is not None and result.model == "bootstrap-rank"
    # Every month a step, though many a 1st falls on a weekend, when no price is set.
    assert result.inputs["returns"] == 15
