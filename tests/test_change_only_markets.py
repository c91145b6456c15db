"""Market odds are stored when they change, not on every poll: polled unchanged a thousand
times, twenty markets hold twenty rows, and still read fresh because each poll confirms
them; a change adds one row; a market read twice in the same final state is not asked
for again (once is not enough: a mistaken answer must not silence it); charts and the
price on the day a claim was made carry the last value on to its confirmation. Prices and
macro series keep one point per bar. Payloads are the recorded ones (tests/fixtures)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from db import queries
from db.engine import open_database
from tests.replay import FIXTURES
from tests.sources_fixtures import market, replay_config
from tests.test_poll_end_to_end import tracker
from tracker.config import load_settings
from tracker.freshness import stale_series
from tracker.registry import load_registry
from tracker.service import poll
from tracker.service.evaluation import evaluate_all
from tracker.service.freshness import staleness
from tracker.service.made_on import made_on_prices
from tracker.sources.polymarket import parse_markets
from tracker.views.show import gather_prediction, render

BASE = "https://markets.test"
EVERY = timedelta(minutes=5)  # the markets' default poll interval
XI = "xi-jinping-out-before-2027"  # open, Yes at 0.0455
ABIY = "will-abiy-ahmed-be-the-next-prime-minister-of-ethiopia"  # resolved, Yes won
POPE = "KXNEWPOPE-70-PPAR"  # open
TIE = "KXESOCCERGAME-26OCT090639ADRIMIA-TIE"  # settled, yes


def gamma(*files: str) -> list[dict]:
    return [m for name in files for m in json.loads((FIXTURES / "polymarket" / name).read_text())]


def kalshi(name: str) -> dict:
    return json.loads((FIXTURES / "kalshi" / name).read_text())["market"]


OPEN_GAMMA = gamma("markets_open_xi.json", "markets_btc_open_leeds_proposed.json",
                   "markets_warsh_disputed.json")  # open, open, proposed, disputed
XI_MARKET = OPEN_GAMMA[0]
OPEN_POPE = kalshi("market_open_KXNEWPOPE-70-PPAR.json")
SETTLED_TIE = kalshi("market_yes_KXESOCCERGAME-26OCT090639ADRIMIA-TIE.json")
SETTLED_NO = kalshi("market_no_KXIDNSLSPREAD-26OCT09PKEMAU-PKE5.json")


def twenty_markets() -> list[dict]:
    """Twenty Gamma market objects: the four recorded open or pending ones, five times
    each under a slug of its own (the slug is what tells markets apart)."""
    return [m | {"slug": f"{m['slug']}-{i}"} for m in OPEN_GAMMA for i in range(5)]


def setup(tmp_path, predictions: str):
    config = replay_config(tmp_path, BASE, predictions=predictions)
    settings_ = load_settings(str(config))
    return config, settings_, load_registry(settings_), open_database(settings_.database.url)


def poll_gamma(engine, payload: list[dict], at: datetime) -> None:
    """One poll of these Gamma markets at ``at``: the answer parsed and stored as the
    poll cycle stores it."""
    poll.store(engine, parse_markets(payload, [m["slug"] for m in payload], at), at)


def stored_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM observation")).scalar()


def cli_json(config, *args):
    done = tracker(config, *args, "--json")
    # No daemon leads on these databases: health's verdict is a failure, the rest is read.
    assert done.returncode == (1 if args[0] == "health" else 0), done.stderr
    return json.loads(done.stdout)


# --- storage --------------------------------------------------------------------------------


@pytest.mark.long
def test_twenty_unchanged_markets_polled_a_thousand_times_hold_twenty_rows(tmp_path):
    markets = twenty_markets()
    config, _, _, engine = setup(tmp_path, "".join(
        market(f"m{i}", f"polymarket:{m['slug']}") for i, m in enumerate(markets)))
    last = datetime.now(UTC) - timedelta(minutes=1)
    polls = [last - EVERY * (999 - i) for i in range(1000)]
    for at in polls:
        poll_gamma(engine, markets, at)

    assert stored_rows(engine) == 20  # not 20,000
    # `tracker series`: each market fresh, one point, its value as of the last poll.
    rows = cli_json(config, "series")
    assert len(rows) == 20
    assert {(row["points"], row["stale"], row["last_at"]) for row in rows} == {
        (1, False, last.isoformat())}
    xi = next(row for row in rows if row["id"] == f"polymarket:{XI}-0")
    assert xi["last_value"] == 0.0455
    assert cli_json(config, "health")["stale_series"] == []
    first = queries.series_points(engine, f"polymarket:{XI}-0")
    assert [(p.ts, p.value) for p in first] == [(polls[0], 0.0455)]  # when it took that value


def test_a_change_stores_one_new_row(tmp_path):
    markets = twenty_markets()
    _, _, _, engine = setup(tmp_path, "")
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for i in range(3):
        poll_gamma(engine, markets, t0 + EVERY * i)
    moved = [m | {"outcomePrices": '["0.06", "0.94"]'} if m["slug"] == f"{XI}-0" else m
             for m in markets]
    for i in range(3, 6):
        poll_gamma(engine, moved, t0 + EVERY * i)

    assert stored_rows(engine) == 21
    xi = f"polymarket:{XI}-0"
    assert [(p.ts, p.value) for p in queries.series_points(engine, xi)] == [
        (t0, 0.0455), (t0 + 3 * EVERY, 0.06)]
    shown = {row.id: row for row in queries.series_overview(engine)}
    assert shown[xi].points == 2 and all(row.points == 1 for sid, row in shown.items() if sid != xi)
    assert {c.confirmed_at for c in queries.confirmations(engine).values()} == {t0 + 5 * EVERY}


def test_prices_keep_one_point_per_bar(any_engine):
    """A price that closes unchanged is still a bar of its own."""
    queries.upsert_series(any_engine, [{"id": "yahoo:CL=F", "source": "yahoo", "symbol": "CL=F",
                                        "first_seen_at": datetime(2026, 1, 2, tzinfo=UTC)}])
    days = [datetime(2026, 1, 2 + i, tzinfo=UTC) for i in range(5)]
    queries.upsert_observations(any_engine, [
        {"series_id": "yahoo:CL=F", "ts": day, "value": 60.0, "high": None, "low": None,
         "fetched_at": day} for day in days])
    assert len(queries.series_points(any_engine, "yahoo:CL=F")) == 5
    assert queries.confirmations(any_engine) == {}


# --- history arriving around polled odds ------------------------------------------------------


ODDS = "polymarket:odds"
T = datetime(2026, 6, 1, tzinfo=UTC)


def odds(minutes: int, value: float) -> dict:
    at = T + timedelta(minutes=minutes)
    return {"series_id": ODDS, "ts": at, "value": value, "high": None, "low": None,
            "fetched_at": at}


def stored_odds(engine) -> list[tuple[int, float]]:
    return [(int((p.ts - T).total_seconds() // 60), p.value)
            for p in queries.series_points(engine, ODDS)]


def add_odds_series(engine) -> None:
    queries.upsert_series(engine, [{"id": ODDS, "source": "polymarket", "symbol": "odds",
                                    "first_seen_at": T}])


def point_count(engine) -> int:
    return {row.id: row.points for row in queries.series_overview(engine)}[ODDS]


def test_history_keeps_each_change_once_and_a_resent_window_adds_nothing(any_engine):
    add_odds_series(any_engine)
    window = [odds(m, v) for m, v in ((0, 0.5), (60, 0.5), (120, 0.6), (180, 0.6), (240, 0.5))]
    queries.upsert_observations(any_engine, window, changes_only=True)
    assert stored_odds(any_engine) == [(0, 0.5), (120, 0.6), (240, 0.5)]
    queries.upsert_observations(any_engine, window, changes_only=True)
    assert stored_odds(any_engine) == [(0, 0.5), (120, 0.6), (240, 0.5)]
    assert point_count(any_engine) == 3
    # A revised value at a stored time replaces it, even where it now repeats the one before.
    queries.upsert_observations(any_engine, [odds(120, 0.5)], changes_only=True)
    assert stored_odds(any_engine) == [(0, 0.5), (120, 0.5), (240, 0.5)]


def test_history_landing_before_a_confirmation_keeps_the_odds_the_poll_saw(any_engine):
    """Polled at 0.5, confirmed unchanged at 60 minutes; then a gap's history says the odds
    were 0.6 at minute 30: the stored series must still end at the 0.5 the poll saw."""
    add_odds_series(any_engine)
    queries.upsert_observations(any_engine, [odds(0, 0.5)], changes_only=True)
    queries.upsert_observations(any_engine, [odds(60, 0.5)], changes_only=True)  # no change
    queries.confirm_series(any_engine, {ODDS: None}, T + timedelta(minutes=60))
    assert stored_odds(any_engine) == [(0, 0.5)]
    queries.upsert_observations(any_engine, [odds(30, 0.6), odds(45, 0.6)], changes_only=True)
    assert stored_odds(any_engine) == [(0, 0.5), (30, 0.6), (60, 0.5)]
    assert point_count(any_engine) == 3
    # History that agrees with the poll adds nothing more.
    queries.upsert_observations(any_engine, [odds(50, 0.6)], changes_only=True)
    assert stored_odds(any_engine) == [(0, 0.5), (30, 0.6), (60, 0.5)]


def test_any_sequence_of_batches_keeps_the_count_and_the_latest_values(any_engine):
    """Property: whatever batches arrive, in any time order, the shown count is count(*)
    and every stored point holds the last value sent for its time; sent in time order,
    the stored step function gives every value sent."""
    add_odds_series(any_engine)
    batch = st.lists(st.tuples(st.integers(0, 30), st.sampled_from([0.1, 0.2, 0.3])),
                     min_size=1, max_size=8)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(batch, min_size=1, max_size=5), st.booleans())
    def prop(batches, in_time_order):
        with any_engine.begin() as conn:
            conn.execute(text("DELETE FROM observation"))
            conn.execute(text("UPDATE series SET point_count = 0"))
        if in_time_order:  # each batch after the last: as polls arrive
            batches = [[(n * 31 + m, v) for m, v in b] for n, b in enumerate(batches)]
        sent: dict[int, float] = {}
        for b in batches:
            queries.upsert_observations(any_engine, [odds(m, v) for m, v in b], changes_only=True)
            sent |= dict(b)
        stored = stored_odds(any_engine)
        assert point_count(any_engine) == len(stored)
        assert all(sent[m] == v for m, v in stored)
        if in_time_order:
            assert all(value_at(stored, m) == v for m, v in sent.items())
            assert all(a[1] != b[1] for a, b in pairwise(stored))  # no repeats

    prop()


def value_at(points: list[tuple], when) -> float | None:
    """The step function of ``points`` (time, value) at ``when``."""
    before = [v for t, v in points if t <= when]
    return before[-1] if before else None


# --- resolved markets -------------------------------------------------------------------------


class Markets:
    """Gamma's and Kalshi's market endpoints on one respx mock (both answer /markets;
    Kalshi's ``tickers`` query tells them apart): each answers from the recorded market
    objects it currently holds, and every symbol asked for is recorded."""

    def __init__(self, gamma_markets: list[dict], kalshi_markets: list[dict]):
        self.gamma = {m["slug"]: m for m in gamma_markets}
        self.kalshi = {m["ticker"]: m for m in kalshi_markets}
        self.asked: list[str] = []

    def mock(self, router) -> None:
        router.get(url__regex=rf"^{re.escape(BASE)}/markets/(?P<ticker>[^/?]+)$").mock(
            side_effect=self.one)
        router.get(url__regex=rf"^{re.escape(BASE)}/markets(\?.*)?$").mock(side_effect=self.list)

    def list(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if "tickers" in params:
            tickers = params["tickers"].split(",")
            self.asked += tickers
            found = [self.kalshi[t] for t in tickers if t in self.kalshi]
            return httpx.Response(200, json={"cursor": "", "markets": found})
        slugs = params.get_list("slug")
        self.asked += slugs
        return httpx.Response(200, json=[self.gamma[s] for s in slugs if s in self.gamma])

    def one(self, request: httpx.Request, ticker: str) -> httpx.Response:
        self.asked.append(ticker)
        if ticker not in self.kalshi:
            return httpx.Response(404)
        return httpx.Response(200, json={"market": self.kalshi[ticker]})

    def cycle(self, settings_, registry, engine, at: datetime) -> list[str]:
        """One poll cycle at ``at``: the symbols it asked for, sorted."""
        before = len(self.asked)
        result = poll.run_cycle(settings_, registry, engine, now=at)
        assert result.ok, [str(line) for line in result.lines]
        return sorted(self.asked[before:])


def test_a_resolved_market_is_read_once_more_then_no_longer_asked_for(tmp_path):
    predictions = (market("abiy", f"polymarket:{ABIY}") + market("xi", f"polymarket:{XI}")
                   + market("tie", f"kalshi:{TIE}") + market("pope", f"kalshi:{POPE}"))
    config, settings_, registry, engine = setup(tmp_path, predictions)
    apis = Markets(gamma("markets_ethiopia_resolved.json", "markets_open_xi.json"),
                   [OPEN_POPE, SETTLED_TIE])
    t0 = datetime.now(UTC) - timedelta(days=30)
    with respx.mock(assert_all_called=False) as router:
        apis.mock(router)
        asked = [apis.cycle(settings_, registry, engine, t0 + EVERY * i) for i in range(5)]

    everything = sorted([ABIY, XI, TIE, POPE])
    assert asked[:2] == [everything, everything]  # read, then read again to confirm
    assert asked[2:] == [sorted([XI, POPE])] * 3
    verdicts = {pid: snap.status for pid, snap in queries.latest_snapshots(engine).items()}
    assert verdicts["abiy"] == verdicts["tie"] == "right"
    settled = {sid for sid, c in queries.confirmations(engine).items() if c.resolution_confirmed_at}
    assert settled == {f"polymarket:{ABIY}", f"kalshi:{TIE}"}

    # A month on, the open markets (unpolled since) are stale; the settled ones never are,
    # and `tracker series` still lists them.
    ids = [f"polymarket:{ABIY}", f"polymarket:{XI}", f"kalshi:{TIE}", f"kalshi:{POPE}"]
    stale = staleness(engine, ids, t0 + timedelta(days=30), settings_)
    assert stale == {ids[0]: False, ids[1]: True, ids[2]: False, ids[3]: True}
    assert {row["id"]: row["last_value"] for row in cli_json(config, "series")} == {
        ids[0]: 1.0, ids[1]: 0.0455, ids[2]: 1.0, ids[3]: 0.049}
    assert cli_json(config, "health")["stale_series"] == sorted([ids[1], ids[3]])


def test_one_mistaken_final_read_never_silences_a_market(tmp_path):
    """Kalshi answers for the open Pope market with a settled market's object (recorded,
    under this ticker): once, then open again, then settled yes and no in turn. Only two
    reads in a row of the same final value stop the polling."""
    _, settings_, registry, engine = setup(tmp_path, market("pope", f"kalshi:{POPE}"))
    settled_yes = SETTLED_TIE | {"ticker": POPE}
    settled_no = SETTLED_NO | {"ticker": POPE}
    answers = [OPEN_POPE, settled_yes, OPEN_POPE, settled_yes, settled_no, settled_yes,
               settled_yes]
    apis = Markets([], [])
    asked = []
    with respx.mock(assert_all_called=False) as router:
        apis.mock(router)
        t0 = datetime(2026, 10, 9, 12, tzinfo=UTC)
        for i, answer in enumerate([*answers, OPEN_POPE]):
            apis.kalshi[POPE] = answer
            asked.append(apis.cycle(settings_, registry, engine, t0 + EVERY * i))
    assert asked == [[POPE]] * len(answers) + [[]]
    assert queries.latest_snapshots(engine)["pope"].status == "right"


# --- staleness ----------------------------------------------------------------------------------


def test_unchanged_odds_confirmed_by_polls_are_fresh_and_go_stale_when_the_polls_stop(tmp_path):
    _, settings_, _, engine = setup(tmp_path, "")
    xi = f"polymarket:{XI}"
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
    poll_gamma(engine, [XI_MARKET], t0)
    last = t0 + timedelta(days=10)
    poll_gamma(engine, [XI_MARKET], last)  # unchanged for ten days, confirmed now
    assert len(queries.series_points(engine, xi)) == 1

    def stale_at(now):
        return staleness(engine, [xi], now, settings_)[xi]

    assert not stale_at(last + timedelta(minutes=1))
    # Its source asked for it again but did not return it (failing) for three intervals.
    queries.record_source_result(engine, "polymarket", last + 4 * EVERY, "HTTP 500", [XI], None)
    assert not stale_at(last + 2 * EVERY)
    assert stale_at(last + 4 * EVERY)
    # The same series judged by the spacing of its points alone, as a price would be, is
    # stale: the confirmations are what keep it fresh.
    assert stale_series(queries.newest_points(engine, [xi], 30), last + timedelta(minutes=1)) == {xi: True}


def test_a_polling_that_stopped_leaves_it_stale_after_the_slack(tmp_path):
    _, settings_, _, engine = setup(tmp_path, "")
    xi = f"polymarket:{XI}"
    last = datetime(2026, 11, 2, 9, tzinfo=UTC)
    poll_gamma(engine, [XI_MARKET], last)
    assert not staleness(engine, [xi], last + timedelta(days=2), settings_)[xi]
    assert staleness(engine, [xi], last + timedelta(days=4), settings_)[xi]


def test_the_price_on_made_on_is_the_odds_held_then(tmp_path):
    """Odds unchanged from 1 March to 10 April: a claim made on 21 March gets them as its
    price, though no point was stored near that day."""
    _, _, registry, engine = setup(tmp_path, market("xi", f"polymarket:{XI}", made_on="2026-03-21"))
    poll_gamma(engine, [XI_MARKET], datetime(2026, 3, 1, tzinfo=UTC))
    poll_gamma(engine, [XI_MARKET], datetime(2026, 4, 10, tzinfo=UTC))
    assert made_on_prices(engine, registry) == {"xi": pytest.approx(0.0455)}


# --- charts ---------------------------------------------------------------------------------------


def test_show_draws_unchanged_odds_on_to_their_last_confirmation(tmp_path):
    _, settings_, registry, engine = setup(tmp_path, market("xi", f"polymarket:{XI}"))
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for at in (t0, t0 + timedelta(days=3)):
        poll_gamma(engine, [XI_MARKET], at)
        evaluate_all(engine, registry, at, settings_)
    assert len(queries.snapshot_history(engine, "xi")) == 1  # nothing changed after the first

    lines = render(gather_prediction(engine, registry, registry.get("xi")), width=200)
    inputs = next(line for line in lines if line.startswith(f"  polymarket:{XI}"))
    assert "at 2026-11-05 09:00" in inputs and "1 points" in inputs
    chart = lines[lines.index("Probability history:") + 1:]
    # The claim's window, from its made_on; the odds drawn from their snapshot on to the
    # last poll that confirmed them, nothing known before or after.
    assert chart[-2].split()[0] == "2026-01-10"
    assert re.fullmatch(r"\s*└┄+─+┄*", chart[-3])


# --- the migration ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_migration_compacts_market_runs_and_keeps_every_change(request, sqlite_url, backend):
    from alembic import command
    from sqlalchemy import bindparam

    from db.engine import _alembic_config, current_revision, head_revision, make_engine
    from db.types import UTCDateTime

    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else sqlite_url
    old = make_engine(url)
    with old.begin() as conn:
        command.upgrade(_alembic_config(conn), "0006")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    polled = {  # what 0006's polls stored: every poll, changed or not
        "polymarket:runs": [0.5, 0.5, 0.5, 0.6, 0.6, 0.5, 0.5, 0.5],
        "kalshi:FLAT": [0.2] * 6,
        "kalshi:MOVING": [0.1, 0.2, 0.3],
        "yahoo:CL=F": [60.0, 60.0, 61.0, 61.0],  # a price: one point per bar, kept
    }
    stamp = UTCDateTime()
    with old.begin() as conn:
        for sid, values in [*polled.items(), ("polymarket:EMPTY", [])]:
            source, symbol = sid.split(":")
            conn.execute(text("INSERT INTO series (id, source, symbol, first_seen_at, point_count) "
                              "VALUES (:id, :source, :symbol, :t, :n)")
                         .bindparams(bindparam("t", type_=stamp)),
                         {"id": sid, "source": source, "symbol": symbol, "t": t0, "n": len(values)})
            if not values:
                continue
            conn.execute(text("INSERT INTO observation (series_id, ts, value, fetched_at, first_seen_at) "
                              "VALUES (:sid, :ts, :v, :f, :ts)")
                         .bindparams(bindparam("ts", type_=stamp), bindparam("f", type_=stamp)),
                         [{"sid": sid, "ts": t0 + EVERY * i, "v": v, "f": t0 + EVERY * i + timedelta(seconds=2)}
                          for i, v in enumerate(values)])
    old.dispose()

    engine = open_database(url)
    try:
        assert current_revision(engine) == head_revision()
        kept = {sid: [(p.ts, p.value) for p in queries.series_points(engine, sid)] for sid in polled}
        assert [v for _, v in kept["polymarket:runs"]] == [0.5, 0.6, 0.5]
        assert [v for _, v in kept["kalshi:FLAT"]] == [0.2]
        assert [v for _, v in kept["kalshi:MOVING"]] == [0.1, 0.2, 0.3]
        assert [v for _, v in kept["yahoo:CL=F"]] == [60.0, 60.0, 61.0, 61.0]
        for sid, values in polled.items():  # no change lost: every polled value is still read
            assert [value_at(kept[sid], t0 + EVERY * i) for i in range(len(values))] == values
        shown = {row.id: row.points for row in queries.series_overview(engine)}
        assert shown == {"polymarket:runs": 3, "kalshi:FLAT": 1, "kalshi:MOVING": 3,
                         "yahoo:CL=F": 4, "polymarket:EMPTY": 0}
        # Each market confirmed when its newest point was last fetched; not the others.
        confirmed = {sid: c.confirmed_at for sid, c in queries.confirmations(engine).items()}
        assert confirmed == {sid: t0 + EVERY * (len(polled[sid]) - 1) + timedelta(seconds=2)
                             for sid in ("polymarket:runs", "kalshi:FLAT", "kalshi:MOVING")}
        # From there, a poll that reads the same odds stores nothing.
        queries.upsert_observations(engine, [{
            "series_id": "kalshi:FLAT", "ts": t0 + timedelta(hours=1), "value": 0.2, "high": None,
            "low": None, "fetched_at": t0 + timedelta(hours=1)}], changes_only=True)
        assert len(queries.series_points(engine, "kalshi:FLAT")) == 1

        with engine.begin() as conn:  # down again: the columns go, the points stay
            command.downgrade(_alembic_config(conn), "0006")
        with engine.connect() as conn:
            columns = {column["name"] for column in inspect(conn).get_columns("series")}
            assert not columns & {"confirmed_at", "resolution_confirmed_at"}
            assert conn.execute(text("SELECT count(*) FROM observation")).scalar() == 11
    finally:
        engine.dispose()
