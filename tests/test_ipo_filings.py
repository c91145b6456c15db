"""IPO filings end to end: `tracker poll` reads a company's registration filings from a
loopback server replaying SpaceX's recorded EDGAR submissions (tests/fixtures/edgar) and
a recorded Polymarket market, the composite counts the part EDGAR settles, a verdict by
hand counts another, and `tracker show` says which came from data and which by hand.
Also the bundled registry's IPO block."""

import json

import pytest

from tests.replay import ReplayServer, Reply
from tests.sources_fixtures import composite, gamma_markets, market, replay_config
from tests.test_poll_end_to_end import tracker
from tracker.config import settings_from_dict
from tracker.registry import load_registry
from tracker.sources.edgar import submissions_path


def filing(pid: str, cik: str, start: str = "2026-01-01", deadline: str = "2026-12-31") -> str:
    return (
        f'[[prediction]]\nid = "{pid}"\nwho = "Tester"\nmade_on = 2026-01-10\n'
        f'claim = "{pid}"\nkind = "filing"\nseries = "edgar:{cik}"\nstart = {start}\n'
        f'deadline = {deadline}\n\n'
    )


PREDICTIONS = (
    filing("spacex-filing", "1181412")
    + market("spacex-listing", "polymarket:xi-jinping-out-before-2027")
    + composite("spacex-files", "any_of", ["spacex-filing", "spacex-listing"])
    # A far deadline keeps it open whenever the test runs.
    + filing("spacex-files-again-after-july", "1181412", start="2026-07-01", deadline="2030-12-31")
    + market("other-lists", "polymarket:will-bitcoin-hit-150k-by-june-30-2026")
    + composite("two-file", "at_least", ["spacex-files", "other-lists"], n=2)
)


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ipo")
    with ReplayServer() as server:
        server.add(submissions_path("1181412"), Reply.file("edgar/submissions_CIK0001181412_spacex.json"))
        server.add("/markets", gamma_markets("markets_open_xi.json", "markets_btc_open_leeds_proposed.json"))
        config = replay_config(tmp_path, server.url, predictions=PREDICTIONS)
        poll = tracker(config, "poll")
        before = json.loads(tracker(config, "status", "--json").stdout)
        edgar_requests = [r for r in server.requests if r.startswith("/submissions/")]
    return config, poll, {row["id"]: row for row in before}, edgar_requests


def test_the_poll_asks_edgar_once_per_cik_and_succeeds(polled):
    _, poll, _, edgar_requests = polled
    assert poll.returncode == 0, poll.stdout + poll.stderr
    assert "edgar: ok, 6 points in 1 series" in poll.stdout
    assert edgar_requests == ["/submissions/CIK0001181412.json"]


def test_a_filing_on_edgar_settles_the_part_and_the_company(polled):
    _, _, status, _ = polled
    assert status["spacex-filing"]["status"] == "right"
    assert "SPACE EXPLORATION TECHNOLOGIES CORP: registration filing dated 2026-03-30" in (
        status["spacex-filing"]["explanation"])
    assert status["spacex-files"]["status"] == "right"
    assert status["spacex-listing"]["status"] == "off_track"  # the market is still open


def test_filings_before_the_window_leave_a_claim_open_without_a_probability(polled):
    _, _, status, _ = polled
    late = status["spacex-files-again-after-july"]
    assert (late["status"], late["probability"]) == ("off_track", None)


def test_the_composite_counts_the_part_edgar_settled(polled):
    _, _, status, _ = polled
    two = status["two-file"]
    assert two["status"] in ("on_track", "off_track")
    assert two["value"] == 1.0  # one part right
    assert two["probability"] == pytest.approx(status["other-lists"]["probability"])


def test_a_verdict_by_hand_counts_and_show_says_how_each_part_was_settled(polled):
    config = polled[0]
    note = "confidential draft S-1 announced 2026-06-01"
    resolved = tracker(config, "resolve", "other-lists", "right", "--note", note)
    assert resolved.returncode == 0, resolved.stderr
    status = {row["id"]: row for row in json.loads(tracker(config, "status", "--json").stdout)}
    assert status["two-file"]["status"] == "right"

    shown = tracker(config, "show", "two-file")
    assert shown.returncode == 0, shown.stderr
    assert "Parts (how each was settled):" in shown.stdout
    assert "  spacex-files: right, from data;" in shown.stdout
    assert "    spacex-filing: right, from data; SPACE EXPLORATION" in shown.stdout
    assert f"  other-lists: right, by hand: {note}" in shown.stdout
    parts = json.loads(tracker(config, "show", "two-file", "--json").stdout)["part_verdicts"]
    assert {p["id"]: p["decided"] for p in parts} == {
        "spacex-files": "from data", "spacex-filing": "from data",
        "spacex-listing": "open", "other-lists": "by hand",
    }


def test_the_bundled_ipo_claim_reads_filings_where_a_cik_is_known():
    registry = load_registry(settings_from_dict({}))
    claim = registry.get("jason-two-big-private-companies-ipo")
    assert (claim.kind, claim.n, claim.scored) == ("at_least", 2, True)
    parts = {pid: registry.get(pid) for pid in claim.of}
    assert not any(p.scored for p in parts.values())
    filings = {}
    for pid, part in parts.items():
        if part.kind == "any_of":
            kinds = {registry.get(q).kind: registry.get(q) for q in part.of}
            assert set(kinds) == {"filing", "market"}
            assert kinds["filing"].start.isoformat() == "2026-01-01"
            filings[pid] = kinds["filing"].series
        else:
            assert part.kind == "market" and part.series.startswith("polymarket:")
    assert filings == {"spacex-ipo-2026": "edgar:1181412", "stripe-ipo-2026": "edgar:1691342"}
    assert parts["anduril-ipo-2026"].series == "polymarket:anduril-ipo-before-2027"
