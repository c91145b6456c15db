"""`tracker poll` on market and composite predictions, as a user runs it, against a loopback
server replaying recorded Gamma and Kalshi responses (tests/fixtures/*/SOURCES.md)."""

import json
from itertools import product
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import composite, gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker
from tests.test_sources_kalshi import kalshi_markets

PARTS = ["xi-out", "btc-misses-150k", "leeds-win", "warsh-named", "parolin-pope"]
PREDICTIONS = (
    market("xi-out", "polymarket:xi-jinping-out-before-2027")
    + market("btc-misses-150k", "polymarket:will-bitcoin-hit-150k-by-june-30-2026", side="no")
    + market("leeds-win", "polymarket:epl-lee-bur-2026-05-01-lee")
    + market("warsh-named", "polymarket:will-trump-nominate-kevin-warsh-as-the-next-fed-chair")
    + market("abiy-pm", "polymarket:will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia")
    + market("belete-pm", "polymarket:will-belete-molla-be-the-next-prime-minister-of-ethiopia")
    + market("parolin-pope", "kalshi:KXNEWPOPE-70-PPAR")
    + market("tie-cancelled", "kalshi:KXESOCCERGAME-26OCT091657FROSPEDR-TIE")
    + market("kediri-by-5", "kalshi:KXIDNSLSPREAD-26OCT09PKEMAU-PKE5", side="no")
    + composite("two-of-five", "at_least", PARTS, n=2)
    + composite("abiy-or-xi", "any_of", ["abiy-pm", "xi-out"])
    + composite("belete-and-xi", "all_of", ["belete-pm", "xi-out"])
)


KALSHI_FIXTURES = (
    "market_open_KXNEWPOPE-70-PPAR.json",
    "market_scalar_KXESOCCERGAME-26OCT091657FROSPEDR-TIE.json",
    "market_no_KXIDNSLSPREAD-26OCT09PKEMAU-PKE5.json",
)


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("markets")
    with ReplayServer() as server:
        gamma = gamma_markets(
            "markets_open_xi.json", "markets_btc_open_leeds_proposed.json",
            "markets_warsh_disputed.json", "markets_ethiopia_resolved.json",
        )
        kalshi = kalshi_markets(*KALSHI_FIXTURES)
        # Gamma and Kalshi both answer /markets; on one loopback server, Kalshi's
        # ``tickers`` query tells them apart.
        server.add("/markets", lambda query: kalshi(query) if "tickers" in query else gamma(query))
        for fixture in KALSHI_FIXTURES:
            ticker = fixture.split("_", 2)[2].removesuffix(".json")
            server.add(f"/markets/{ticker}", Reply.file(f"kalshi/{fixture}"))
        config = replay_config(tmp_path, server.url, predictions=PREDICTIONS)
        poll = tracker(config, "poll")
        status = tracker(config, "status", "--json")
        gamma_requests = [r for r in server.requests if r.startswith("/markets?") and "tickers=" not in r]
        kalshi_requests = [r for r in server.requests if "tickers=" in r or r.startswith("/markets/")]
    requests = {"gamma": gamma_requests, "kalshi": kalshi_requests}
    return poll, {row["id"]: row for row in json.loads(status.stdout)}, requests


def test_poll_succeeds_and_asks_gamma_once_for_every_slug(polled):
    poll, _, requests = polled
    assert poll.returncode == 0, poll.stdout + poll.stderr
    assert any(line.startswith("polymarket: ok") for line in poll.stdout.splitlines())
    assert any(line.startswith("kalshi: ok") for line in poll.stdout.splitlines())
    gamma_requests = requests["gamma"]
    assert len(gamma_requests) == 1 and gamma_requests[0].count("slug=") == 6


def test_poll_asks_kalshi_once_for_every_ticker(polled):
    _, _, requests = polled
    [listing] = requests["kalshi"]
    asked = parse_qs(urlsplit(listing).query)["tickers"][0].split(",")
    assert sorted(asked) == sorted(f.split("_", 2)[2].removesuffix(".json") for f in KALSHI_FIXTURES)


def test_open_markets_store_their_price_as_the_probability(polled):
    _, verdicts, _ = polled
    assert verdicts["xi-out"]["probability"] == pytest.approx(0.0455)
    assert verdicts["xi-out"]["status"] == "off_track"
    assert verdicts["btc-misses-150k"]["probability"] == pytest.approx(0.9865)  # the No side


def test_kalshi_price_is_read_from_its_dollar_fields(polled):
    _, verdicts, _ = polled
    assert verdicts["parolin-pope"]["probability"] == pytest.approx((0.04 + 0.058) / 2)


def test_proposed_and_disputed_markets_stay_open(polled):
    _, verdicts, _ = polled
    assert verdicts["leeds-win"]["status"] == "on_track"
    assert verdicts["leeds-win"]["probability"] == pytest.approx(0.9995)
    assert verdicts["warsh-named"]["status"] == "on_track"


def test_resolved_markets_read_right_or_wrong(polled):
    _, verdicts, _ = polled
    assert verdicts["abiy-pm"]["status"] == "right"
    assert verdicts["belete-pm"]["status"] == "wrong"
    assert verdicts["kediri-by-5"]["status"] == "right"  # "no" side of a market settled no
    assert verdicts["tie-cancelled"]["status"] == "void"  # scalar settlement at $0.33


def test_at_least_two_of_five_is_the_poisson_binomial_of_its_parts(polled):
    _, verdicts, _ = polled
    ps = [verdicts[pid]["probability"] for pid in PARTS]
    # By enumeration of all 32 outcomes, independent of the tracker's recursion.
    expected = sum(
        _chance(ps, hits) for hits in product([0, 1], repeat=len(ps)) if sum(hits) >= 2
    )
    assert verdicts["two-of-five"]["probability"] == pytest.approx(expected, abs=1e-9)
    assert 0.0 < expected < 1.0


def _chance(ps, hits):
    result = 1.0
    for p, hit in zip(ps, hits):
        result *= p if hit else 1.0 - p
    return result


def test_composites_resolve_early_and_say_so(polled):
    _, verdicts, _ = polled
    assert verdicts["abiy-or-xi"]["status"] == "right"
    assert "resolved early" in verdicts["abiy-or-xi"]["explanation"]
    assert verdicts["belete-and-xi"]["status"] == "wrong"
    assert "resolved early" in verdicts["belete-and-xi"]["explanation"]
