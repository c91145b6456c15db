"""The gdp-nowcast model on recorded FRED payloads (tests/fixtures/fred/SOURCES.md): a real
GDPC1 fredgraph CSV through 2026Q1 and a real GDPNOW one captured on 2025-02-10, whose last
row is the live nowcast for 2025Q1.

No recorded GDPNOW reaches 2026, so the nowcast quarter is exercised by shifting the claim
year: a 2025 claim as of 2025-02-10, with GDPC1 cut to what was released that day (through
2024Q4, whose advance estimate came out on 2025-01-30) and GDPNow's 2.9416 for 2025Q1. The
2026 claims themselves run on GDPC1 through 2026Q1, with no nowcast quarter.

The annual series A191RL1A225NBEA has no recorded payload here; where a test needs its
released value it uses the one FRED published (2.1 for 2025), which the GDPC1 levels
reproduce (test_levels_reproduce_the_published_annual_growth).
"""

import itertools
import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tests.evalhelp import day, prediction
from tests.replay import FIXTURES
from tracker.config import settings_from_dict
from tracker.evaluate import SeriesInput, Status, evaluate
from tracker.evaluate.gdp_nowcast import SD_ASSUMED, SD_NOWCAST, annual_growth, build, chance
from tracker.registry import load_registry
from tracker.registry.rules import describe_rule
from tracker.sources.base import Point
from tracker.sources.fred import parse_csv

ANNUAL = "fred:A191RL1A225NBEA"
LEVELS = "fred:GDPC1"
NOWCAST = "fred:GDPNOW"
TODAY = datetime(2026, 11, 30, 12, tzinfo=UTC)
CAPTURED = datetime(2025, 2, 10, 12, tzinfo=UTC)  # the day the GDPNOW file was recorded


def recorded(name: str, series_id: str) -> list[Point]:
    text = (FIXTURES / "fred" / name).read_text()
    return parse_csv(text, series_id.split(":", 1)[1]).points


GDPC1 = recorded("GDPC1_fredgraph_2000Q1_2026Q1.csv", LEVELS)
GDPNOW = recorded("GDPNOW_fredgraph_2011Q3_2025Q1.csv", NOWCAST)


def through(points: list[Point], last: date) -> list[Point]:
    return [p for p in points if p.ts.date() <= last]


def inputs(levels=GDPC1, nowcasts=GDPNOW, annual=(), stale=()):
    return {
        ANNUAL: SeriesInput(ANNUAL, list(annual), stale=ANNUAL in stale),
        LEVELS: SeriesInput(LEVELS, list(levels), stale=LEVELS in stale, label="Real GDP"),
        NOWCAST: SeriesInput(NOWCAST, list(nowcasts), stale=NOWCAST in stale, label="GDPNow"),
    }


# 2025 as it stood on 2025-02-10: GDPC1 through 2024Q4 and GDPNow for 2025Q1
AS_OF_CAPTURE = {"levels": through(GDPC1, date(2024, 10, 1))}


def claim_2025(**fields):
    base = {"kind": "estimate", "series": ANNUAL, "on": date(2025, 1, 1), "made_on": date(2025, 1, 10),
            "levels": LEVELS, "nowcast": NOWCAST, "deadline": date(2026, 3, 31)}
    return prediction(**{**base, **fields})


def gdpnow_2025q1(value: float) -> list[Point]:
    """The recorded GDPNOW with its live 2025Q1 nowcast set to ``value``: what the
    evaluation would say had the nowcast moved there."""
    return [*GDPNOW[:-1], replace(GDPNOW[-1], value=value)]


# the model against the published numbers


def test_levels_reproduce_the_published_annual_growth():
    # FRED's A191RL1A225NBEA: 2.8 for 2024, 2.1 for 2025
    for year, published in ((2024, 2.8), (2025, 2.1)):
        model = build(year, GDPC1, GDPNOW)
        assert model.unknown == () and model.sd == 0
        assert round(model.mean, 1) == published


def test_the_assumed_spreads_match_the_recorded_data():
    """SD_NOWCAST and SD_ASSUMED are in line with what the fixtures show (2020-21 left out)."""
    level = {p.ts.date(): p.value for p in GDPC1}
    dates = sorted(level)
    growth = {d: 100 * ((level[d] / level[b]) ** 4 - 1) for b, d in itertools.pairwise(dates)}
    normal = [d for d in growth if d.year not in (2020, 2021) and d.year >= 2011]
    errors = [growth[p.ts.date()] - p.value for p in GDPNOW if p.ts.date() in normal]
    rmse = math.sqrt(sum(e * e for e in errors) / len(errors))
    assert len(errors) > 40 and SD_NOWCAST <= rmse < 2.0
    values = [growth[d] for d in normal]
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    assert spread < SD_ASSUMED < spread + 1


def test_the_linear_spread_matches_a_simulation():
    model = build(2025, AS_OF_CAPTURE["levels"], GDPNOW)
    rng = random.Random(2025)
    draws = [annual_growth(model.released, [rng.gauss(q.growth, q.sd) for q in model.unknown])
             for _ in range(20000)]
    inside = sum(2.0 - 0.05 <= a < 3.0 + 0.05 for a in draws) / len(draws)
    assert model.probability(2.0, 3.0) == pytest.approx(inside, abs=0.015)


# before the release: a probability from the nowcast


def test_a_claim_gets_a_probability_before_the_release():
    result = evaluate(claim_2025(value=2.5, tolerance=0.5), inputs(**AS_OF_CAPTURE), CAPTURED)
    assert result.status is Status.ON_TRACK
    assert 0.5 < result.probability < 0.7
    assert result.model == "gdp-nowcast"
    assert result.explanation == (
        "2025 not released yet; nowcast 2.8% from Real GDP through 2024Q4, GDPNow 2.9% for "
        "2025Q1 and 2.9% assumed for 2025Q2-Q4 (needs 2.5 ± 0.5): 60% chance"
    )
    assert result.value == pytest.approx(2.83, abs=0.01)
    assert result.value_at == day(date(2025, 1, 1))
    assert result.inputs["released_through"] == "2024-10-01"
    assert result.inputs["quarters"][0] == {"quarter": "2025Q1", "growth": 2.9416,
                                           "sd": SD_NOWCAST, "source": "nowcast"}
    assert result.inputs["levels"] == LEVELS and result.inputs["nowcast"] == NOWCAST


def test_late_in_the_year_only_the_nowcast_quarter_is_uncertain():
    """2024 just before its Q4 advance release: GDPC1 through 2024Q3, GDPNow's final 2.27
    for 2024Q4. The published 2.8 lands inside; a quarter's miss moves the year a sixteenth."""
    claim = claim_2025(on=date(2024, 1, 1), made_on=date(2024, 1, 10), value=2.8, tolerance=0.3,
                       deadline=date(2025, 3, 31))
    result = evaluate(claim, inputs(levels=through(GDPC1, date(2024, 7, 1))),
                      datetime(2025, 1, 29, tzinfo=UTC))
    assert result.explanation == (
        "2024 not released yet; nowcast 2.8% from Real GDP through 2024Q3 and GDPNow 2.3% for "
        "2024Q4 (needs 2.8 ± 0.3): >99% chance"
    )
    assert result.inputs["nowcast_sd"] == pytest.approx(SD_NOWCAST / 16, rel=0.05)


def test_a_higher_nowcast_raises_a_high_claim_and_lowers_a_low_one():
    claims = [claim_2025(value=4.0, tolerance=0.5), claim_2025(range=[1.0, 2.0])]
    rise = inputs(levels=AS_OF_CAPTURE["levels"], nowcasts=gdpnow_2025q1(5.0))
    before = [evaluate(c, inputs(**AS_OF_CAPTURE), CAPTURED).probability for c in claims]
    after = [evaluate(c, rise, CAPTURED).probability for c in claims]
    assert after[0] > before[0] and after[1] < before[1]


def test_far_from_the_bounds_the_probability_is_near_0_or_1():
    far = evaluate(claim_2025(value=8.0, tolerance=0.5), inputs(**AS_OF_CAPTURE), CAPTURED)
    wide = evaluate(claim_2025(range=[0.0, 6.0]), inputs(**AS_OF_CAPTURE), CAPTURED)
    assert far.status is Status.OFF_TRACK and far.probability < 0.001
    assert far.explanation.endswith("(needs 8.0 ± 0.5): <1% chance")
    assert wide.status is Status.ON_TRACK and wide.probability > 0.999


def test_the_bundled_2026_claims_on_the_recorded_data():
    """Today, with GDPC1 through 2026Q1 and no nowcast for 2026: Q2-Q4 follow Q1's 2.1%."""
    registry = load_registry(settings_from_dict({}))
    for claim_id, needs in (("sacks-gdp-5", "5.0 ± 0.5"), ("chamath-gdp-5-to-6", "5.0-6.2"),
                            ("friedberg-gdp-4-6", "4.6 ± 0.5")):
        result = evaluate(registry.get(claim_id), inputs(), TODAY)
        assert result.status is Status.OFF_TRACK
        assert result.probability < 0.001
        assert result.explanation == (
            "2026 not released yet; nowcast 2.2% from Real GDP through 2026Q1 and 2.1% "
            f"assumed for 2026Q2-Q4 (needs {needs}): <1% chance"
        )


def test_the_nowcast_inputs_are_polled():
    registry = load_registry(settings_from_dict({}))
    assert {LEVELS, NOWCAST} <= set(registry.get("sacks-gdp-5").series_ids())
    assert {LEVELS, NOWCAST} <= set(registry.series_ids())


def test_missing_or_stale_nowcast_inputs_are_no_data():
    claim = claim_2025(value=2.5, tolerance=0.5)
    empty = evaluate(claim, inputs(levels=[]), CAPTURED)
    stale = evaluate(claim, inputs(**AS_OF_CAPTURE, stale=(NOWCAST,)), CAPTURED)
    gap = evaluate(claim, inputs(levels=through(GDPC1, date(2023, 10, 1)), nowcasts=[GDPNOW[0]]),
                   CAPTURED)
    assert empty.status is Status.NO_DATA and "no data for Real GDP yet" in empty.explanation
    assert stale.status is Status.NO_DATA and "GDPNow is stale" in stale.explanation
    assert gap.status is Status.NO_DATA and "no nowcast: no quarterly level for 2024Q1 yet" in gap.explanation
    assert all(r.probability is None for r in (empty, stale, gap))


# the release decides


@pytest.mark.parametrize("nowcast", [-3.0, 2.9416, 9.0])
def test_the_released_value_decides_whatever_the_nowcast(nowcast):
    released = [Point(day(date(2025, 1, 1)), 2.1)]  # FRED's published 2025 figure
    data = inputs(nowcasts=gdpnow_2025q1(nowcast), annual=released)
    right = evaluate(claim_2025(value=2.5, tolerance=0.5), data, CAPTURED)
    wrong = evaluate(claim_2025(value=4.0, tolerance=0.5), data, CAPTURED)
    assert (right.status, right.probability) == (Status.RIGHT, 1.0)
    assert (wrong.status, wrong.probability) == (Status.WRONG, 0.0)
    assert right.model is None and right.value == 2.1
    assert right.explanation.endswith("off by -0.4 (tolerance 0.5); the first estimate decides")


def test_after_the_deadline_the_verdict_says_it_is_final():
    released = [Point(day(date(2025, 1, 1)), 2.1)]
    after = datetime(2026, 4, 1, tzinfo=UTC)
    result = evaluate(claim_2025(value=2.5, tolerance=0.5), inputs(annual=released), after)
    assert result.status is Status.RIGHT
    assert result.explanation.endswith(
        "; final since the deadline 2026-03-31: later revisions do not count"
    )


def test_past_the_deadline_with_no_release_the_nowcast_still_waits_for_it():
    result = evaluate(claim_2025(value=2.5, tolerance=0.5), inputs(**AS_OF_CAPTURE),
                      datetime(2026, 4, 1, tzinfo=UTC))
    assert result.status is Status.ON_TRACK
    assert result.explanation.startswith(
        "2025 not released yet (past the deadline 2026-03-31; the first estimate still decides)"
    )


# level


def level_2025(**fields):
    return claim_2025(**{"kind": "level", "target": 2.0, "direction": "above", **fields})


def test_a_level_gets_the_nowcast_probability_and_a_market_overrules_it():
    alone = evaluate(level_2025(), inputs(**AS_OF_CAPTURE), CAPTURED)
    assert alone.status is Status.ON_TRACK and alone.model == "gdp-nowcast"
    assert alone.probability > 0.9
    assert "(needs >= 2.0): " in alone.explanation
    below = evaluate(level_2025(direction="below"), inputs(**AS_OF_CAPTURE), CAPTURED)
    # the release is rounded to one decimal: 1.95-2.05 counts both ways
    assert 1 < alone.probability + below.probability < 1.2
    market = "kalshi:GDPYEAR-25"
    data = inputs(**AS_OF_CAPTURE) | {market: SeriesInput(market, [Point(CAPTURED, 0.3)],
                                                          state="open")}
    priced = evaluate(level_2025(market=market), data, CAPTURED)
    assert priced.probability == pytest.approx(0.3) and priced.model == "market:kalshi"


# registry fields


@pytest.mark.parametrize("fields, error", [
    ({"levels": None}, "give 'nowcast' and 'levels' together"),
    ({"on": date(2025, 4, 1)}, "'on' must be 1 January"),
    ({"levels": NOWCAST}, "must differ"),
    ({"nowcasts": NOWCAST}, "unknown field"),
])
def test_nowcast_fields_are_checked(fields, error):
    with pytest.raises(Exception, match=error):
        claim_2025(value=2.5, tolerance=0.5, **fields)


@pytest.mark.parametrize("p, text", [(0.0, "0%"), (0.001, "<1%"), (0.6, "60%"), (0.999, ">99%"),
                                     (1.0, "100%")])
def test_chance_never_rounds_the_merely_unlikely_to_zero(p, text):
    assert chance(p) == text


def test_show_says_which_release_decides():
    registry = load_registry(settings_from_dict({}))
    assert describe_rule(registry.get("friedberg-gdp-4-6")) == (
        "Right if the value of Real GDP growth (annual) released for 2026-01-01 is between 4.1 "
        "and 5.1. Its first estimate decides; until then Real GDP and GDPNow give a probability."
    )
