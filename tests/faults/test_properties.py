"""Bad input never escapes as an unhandled exception (issue 7 item 4).

Property tests, with Hypothesis, on config loading, registry parsing and every source's
parser. Inputs are arbitrary values (TOML documents, bytes, JSON values, text) and
mutations of real material: the shipped config.toml, the bundled registry and the payloads
recorded under tests/fixtures. The contract checked:

* config: ``load_settings`` gives Settings or a ConfigError whose message is one line
  starting with the file's name;
* registry: ``parse_prediction`` gives a prediction or a RegistryError whose problems are
  one line each, naming the origin and the prediction; ``check_registry`` never raises;
* sources: each parser gives its result or raises SourceError (PayloadError included), and
  what it gives holds only finite numbers, with market probabilities within 0..1.

Each property records one row for the reliability report (area "bad input"). Runs are
derandomized and use no example database, so CI sees the same examples every time.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tracker.config import ConfigError, Settings, load_settings, settings_from_dict
from tracker.registry.loader import RegistryError, check_registry, parse_prediction
from tracker.registry.rules import describe_rule
from tracker.registry.schema import KINDS, PredictionBase
from tracker.sources import fred, kalshi, polymarket, yahoo
from tracker.sources.base import Point, SeriesData, SourceError, SourceReport

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2026, 10, 9, 12, 0, tzinfo=UTC)
AREA = "bad input"
# Examples per property: the whole file takes about 15 s alone on two cores.
N_CONFIG, N_BYTES, N_TABLES, N_FILES, N_PARSER = 500, 200, 800, 400, 600


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _run(fault_result, fault: str, target: str, prop, examples: int) -> None:
    """Run one property and record it: survived when no example broke the contract."""
    try:
        prop()
    except BaseException as exc:
        fault_result(AREA, fault, target, survived=False, note=f"{type(exc).__name__}"[:120])
        raise
    fault_result(AREA, fault, target, survived=True, note=f"{examples} examples")


def _single_line(message: str) -> bool:
    return bool(message) and "\n" not in message and "\r" not in message


# --- a tiny TOML emitter ------------------------------------------------------------------


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (date, time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = ", ".join(f"{_toml_string(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + pairs + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{_toml_string(k)} = {toml_value(v)}\n" for k, v in doc.items())


def test_toml_emitter_round_trips():
    doc = {"a\nb": [1, 2.5, float("inf"), "x\"\\\x7f"], "t": {"d": date(2026, 1, 2),
           "dt": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "time": time(1, 2)}, "b": False}
    assert tomllib.loads(toml_document(doc)) == doc


# --- strategies: TOML values, config documents --------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
TOML_SCALARS = st.one_of(
    TEXT,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),  # nan and inf are TOML too
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(UTC)),
    st.times(),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXT, kids, max_size=3),
    max_leaves=8,
)

# Values at the edges of what each config key accepts, and one list for any key.
DURATIONS = ["5m", "0s", "15", "1d", "99999999999d", "1" + "0" * 20 + "h", "9" * 5000 + "s",
             " 5m ", "5 m", "-5m", "\u0663m"]
ZONES = ["America/Los_Angeles", "America", "Etc", "UTC", "../etc", "/etc/passwd", "zone.tab",
         "UTC\x00", "", " "]
URLS = ["http://", "https://x.example", "http://[::1", "ftp://x", "https://x/", "x", ""]
DATABASES = ["sqlite:///x.db", "postgresql+psycopg://u@h/db", "mysql://x", "sqlite://", ""]
INTS = [-1, 0, 1, 64, 65, 1024, 1025, 65535, 65536, 2**63 - 1, 1.5, float("nan"), True, "4"]
GENERAL = ["07:00", "24:00", "7:00", "starttls", "tls", [], ["me@example.com"], [1], {},
           {"url": 1}, [{}], [{"id": "x"}], "a\nb", None]
KEY_EDGES = {"timezone": ZONES, "url": DATABASES, "send_at": GENERAL,
             **dict.fromkeys(["per_host_concurrency", "retries", "max_response_mb", "smtp_port"],
                             INTS)}


def _edges(key: str) -> list[Any]:
    if key.endswith("_every") or key == "timeout":
        return DURATIONS
    if key.endswith("_url"):
        return URLS
    return KEY_EDGES.get(key, GENERAL)


def _config_values(key: str) -> st.SearchStrategy[Any]:
    return TOML_VALUES | st.sampled_from([v for v in _edges(key) if v is not None])


CONFIG_VALUES = TOML_VALUES | st.sampled_from(
    [v for edges in (DURATIONS, ZONES, URLS, DATABASES, INTS, GENERAL) for v in edges
     if v is not None]
)


def _shape(model: type[BaseModel]) -> dict[str, Any]:
    """Key -> sub-shape (a table) or None (a value), from the Settings model itself."""
    shape: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        kind = field.annotation
        sub = kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None
        shape[field.alias or name] = _shape(sub) if sub else None
    return shape


SETTINGS_SHAPE = _shape(Settings)


def _tables(shape: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    known = st.fixed_dictionaries(
        {},
        optional={
            key: (_tables(sub) | _config_values(key)) if sub else _config_values(key)
            for key, sub in shape.items()
        },
    )
    extra = st.dictionaries(TEXT, CONFIG_VALUES, max_size=2)
    return st.tuples(known, extra, st.integers(0, 9)).map(
        lambda t: t[0] if t[2] else {**t[1], **t[0]}  # an unknown key now and then
    )


CONFIG_DOCS = _tables(SETTINGS_SHAPE)

CONFIG_TEXT = (ROOT / "config.toml").read_text()
CONFIG_LINES = CONFIG_TEXT.splitlines()


@st.composite
def mutated_config_text(draw) -> str:
    """The shipped config.toml with lines deleted, duplicated, uncommented, retyped..."""
    lines = list(CONFIG_LINES)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(
            ["delete", "duplicate", "value", "garbage", "insert", "uncomment", "truncate"]
        ))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "value" and lines and "=" in lines[i] and not lines[i].lstrip().startswith("#"):
            key = lines[i].split("=", 1)[0]
            raw = draw(st.one_of(_config_values(key.strip()).map(toml_value), TEXT))
            lines[i] = f"{key}= {raw}"
        elif op == "garbage":
            lines.insert(i, draw(TEXT))
        elif op == "insert":
            key = draw(st.sampled_from([k for s in SETTINGS_SHAPE.values() if s for k in s]))
            lines.insert(i, f"{key} = {toml_value(draw(CONFIG_VALUES))}")
        elif op == "uncomment":  # a block: the [[prediction]] example comes to life
            for j in range(i, min(len(lines), i + draw(st.integers(1, 12)))):
                lines[j] = lines[j].removeprefix("# ").removeprefix("#")
        elif op == "truncate":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
    return "\n".join(lines) + "\n"


@st.composite
def bad_bytes(draw) -> bytes:
    raw = CONFIG_TEXT.encode()
    where = draw(st.integers(0, len(raw)))
    junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\x00", b"\xed\xa0\x80"])
                | st.binary(min_size=1, max_size=8))
    return raw[:where] + junk + raw[where:]


# --- 1. config ----------------------------------------------------------------------------


def _load_config(path: Path, content: str | bytes) -> None:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    try:
        loaded = load_settings(path)
    except ConfigError as exc:
        message = str(exc)
        assert _single_line(message), message
        assert message.startswith(f"{path}: "), message
        return
    assert isinstance(loaded, Settings)
    for group in ("markets", "prices", "macro"):
        assert loaded.schedule.interval(group).total_seconds() > 0


@pytest.fixture
def config_path(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    return tmp_path / "config.toml"


def test_config_documents(fault_result, config_path):
    @_settings(N_CONFIG)
    @given(CONFIG_DOCS)
    # Found by this property, kept as regressions: a directory for a zone, a duration
    # beyond timedelta, a key with a newline in it.
    @example({"email": {"timezone": "America"}})
    @example({"schedule": {"markets_every": "99999999999d"}})
    @example({"sources": {"yahoo": {"a\nb": 1}}})
    def prop(doc):
        text = toml_document(doc)
        tomllib.loads(text)  # the emitter writes valid TOML: what follows tests the checks
        _load_config(config_path, text)

    _run(fault_result, "arbitrary TOML documents", "load_settings", prop, N_CONFIG)


def test_config_text_mutations(fault_result, config_path):
    @_settings(N_CONFIG)
    @given(mutated_config_text())
    def prop(text):
        _load_config(config_path, text)

    _run(fault_result, "config.toml lines deleted, duplicated, retyped", "load_settings", prop,
         N_CONFIG)


def test_config_bytes(fault_result, config_path):
    @_settings(N_BYTES)
    @given(st.binary(max_size=64) | bad_bytes())
    def prop(raw):
        _load_config(config_path, raw)

    _run(fault_result, "arbitrary and invalid UTF-8 bytes", "load_settings", prop, N_BYTES)


# --- 2. registry --------------------------------------------------------------------------

_BUNDLED = ROOT / "tracker" / "registry" / "data" / "all_in_2026.toml"
SEED_TABLES = tomllib.loads(_BUNDLED.read_text())["prediction"]
FIELD_NAMES = sorted({name for model in KINDS.values() for name in model.model_fields})
REGISTRY_EDGES = [
    *KINDS, "nosuch", "yahoo:GC=F", "fred:DFEDTARU", "polymarket:some-slug", "kalshi:KX-1",
    "nosuch:x", "yahoo:", "yahoo: x", "bad id", "ok-id", "", date(2026, 1, 10),
    date(2025, 1, 1), date(2030, 12, 31), datetime(2026, 1, 10, 1, 2), ["yahoo:A", "yahoo:B"],
    ["yahoo:A"], ["yahoo:A", "yahoo:A"], ["a", "b"], [2.0, 1.0], [1.0, 2.0, 3.0], 0, -1, 1, 2,
    10**18, 1.5, float("nan"), float("inf"), True, "yes", "no", "above", "over", "best",
    "a\nb", {"nested": 1},
]
REGISTRY_VALUES = TOML_VALUES | st.sampled_from(REGISTRY_EDGES)
REGISTRY_KEYS = st.sampled_from(FIELD_NAMES) | TEXT


@st.composite
def mutated_table(draw) -> dict[str, Any]:
    table = dict(draw(st.sampled_from(SEED_TABLES)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop", "set", "set", "kind"]))
        if op == "drop" and table:
            del table[draw(st.sampled_from(sorted(table)))]
        elif op == "set":
            key = draw(st.sampled_from(sorted(table)) | REGISTRY_KEYS) if table else "id"
            table[key] = draw(REGISTRY_VALUES)
        elif op == "kind":
            table["kind"] = draw(st.sampled_from(sorted(KINDS)))
    return table


ARBITRARY_TABLES = st.tuples(
    st.dictionaries(REGISTRY_KEYS, REGISTRY_VALUES, max_size=10),
    st.sampled_from(sorted(KINDS)) | REGISTRY_VALUES,
).map(lambda t: {**t[0], "kind": t[1]})
TABLES = mutated_table() | ARBITRARY_TABLES | TOML_VALUES


def test_registry_tables(fault_result):
    @_settings(N_TABLES)
    @given(TABLES)
    @example({"kind": []})  # found here: an unhashable kind escaped as TypeError
    @example({"kind": "all_of", "\r": 1})  # found here: a problem split over two lines
    def prop(table):
        try:
            prediction = parse_prediction(table, "registry.toml", 7)
        except RegistryError as exc:
            named = (
                f"prediction {table['id']!r}"
                if isinstance(table, dict) and isinstance(table.get("id"), str)
                else "prediction #7"
            )
            assert exc.problems
            for problem in exc.problems:
                assert _single_line(problem), problem
                assert problem.startswith(f"registry.toml: {named}: "), problem
            return
        assert isinstance(prediction, PredictionBase)
        assert isinstance(describe_rule(prediction), str)
        assert all(isinstance(s, str) for s in prediction.series_ids() + prediction.part_ids())

    _run(fault_result, "[[prediction]] tables: fields dropped, retyped, unknown",
         "parse_prediction", prop, N_TABLES)


def _composite(pid: str, parts: list[str], kind: str = "any_of", n: int = 1) -> dict:
    return {"id": pid, "who": "T", "made_on": date(2026, 1, 10), "claim": "c", "kind": kind,
            "of": parts, **({"n": n} if kind == "at_least" else {})}


# Composites pointing at each other, so missing parts and cycles come up.
_IDS = ["p-a", "p-b", "p-c"]
COMPOSITES = st.builds(
    lambda pid, kind, parts, n: _composite(pid, parts, kind, n),
    st.sampled_from(_IDS),
    st.sampled_from(["at_least", "all_of", "any_of"]),
    st.lists(st.sampled_from([*_IDS, "p-missing"]), min_size=1, max_size=3),
    st.integers(1, 3),
)


def test_registry_files(fault_result, tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    path = tmp_path / "mine.toml"
    config = settings_from_dict({"registry": {"bundled": False, "files": [str(path)]}})

    @_settings(N_FILES)
    @given(
        st.lists(COMPOSITES | mutated_table() | st.sampled_from(SEED_TABLES), max_size=4),
        st.dictionaries(TEXT, TOML_VALUES, max_size=1),
        st.none() | st.binary(max_size=16),
    )
    # found here: a cycle of composites escaped check_registry as ValueError
    @example(tables=[_composite("p-a", ["p-b"]), _composite("p-b", ["p-a"])], extra={},
             raw=None)
    def prop(tables, extra, raw):
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(toml_document({**extra, "prediction": tables}), encoding="utf-8")
        registry, problems = check_registry(config)
        for problem in problems:
            assert _single_line(problem), problem
            assert problem.startswith(f"{path}: "), problem
        ids = [p.id for p in registry]
        assert len(ids) == len(set(ids))

    _run(fault_result, "registry files: bad tables, composite cycles, bytes", "check_registry",
         prop, N_FILES)


# --- 3. sources: strategies over JSON ----------------------------------------------------


def _fixture(rel: str) -> Any:
    return json.loads((FIXTURES / rel).read_text())


def _seeds(source: str, pattern: str) -> list[Any]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / source).glob(pattern))]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


ALL_SEEDS = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*/*.json"))]
PAYLOAD_KEYS = st.sampled_from(sorted(set().union(*(_keys(s) for s in ALL_SEEDS)))) | TEXT
NASTY_STRINGS = [
    "", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e308", "-1",
    "2", "1.5", "0.5", "1", "0", "0.0000", "1.0000", ".", "null", "[", "{}", "[]", "Yes", "No",
    "yes", "no", '["Yes", "No"]', '["No", "Yes"]', '["0.5", "0.5"]', '["1", "0"]', '[1e400]',
    '["nan", "0"]', "America", "Etc", "America/New_York", "UTC\x00", "<html>", "9" * 400,
    "resolved", "proposed", "disputed", "finalized", "settled", "closed", "scalar",
    "2026-01-01", "not a date",
]
HUGE = 10**400  # what json.loads gives for a 401-digit number
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), TEXT, st.sampled_from(NASTY_STRINGS),
    st.sampled_from([HUGE, -HUGE, 2**63, 1e308, 1784444400, -1]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(PAYLOAD_KEYS, kids, max_size=5),
    max_leaves=20,
)
REPLACEMENTS = [
    None, "", 0, -1, 2, True, 1e308, float("inf"), float("-inf"), float("nan"), HUGE, -HUGE,
    10**30, "NaN", "nan", "inf", "-inf", "Infinity", "1e400", [], {}, "<html></html>",
    "[" * 100_000,  # JSON text nested deeper than the decoder's recursion limit
]


def _paths(value: Any, prefix: tuple = ()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutate_once(draw, value: Any, focus: frozenset[str]) -> Any:
    paths = list(_paths(value))
    # Half the time a field the parser reads (each name as likely as any other, however
    # often it occurs), else anywhere in the payload.
    read: dict[str, list[tuple]] = {}
    for p in paths:
        if p and p[-1] in focus:
            read.setdefault(p[-1], []).append(p)
    if read and draw(st.booleans()):
        path = draw(st.sampled_from(read[draw(st.sampled_from(sorted(read)))]))
    else:
        path = draw(st.sampled_from(paths))
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    current = parent[path[-1]] if path else value
    op = draw(st.sampled_from(
        ["drop", "set", "set", "set", "json", "wrap", "unwrap", "random", "random", "dup"]
    ))
    if op == "drop" and path:
        del parent[path[-1]]
        return value
    if op == "dup" and path and isinstance(parent, list):
        parent.insert(path[-1], copy.deepcopy(current))
        return value
    if op == "json":
        new = json.dumps(current)  # a string holding JSON
    elif op == "wrap":
        new = [current]
    elif op == "unwrap" and isinstance(current, (list, dict)) and current:
        items = current if isinstance(current, list) else list(current.values())
        new = items[draw(st.integers(0, len(items) - 1))]
    elif op == "random":
        new = draw(JSON_VALUES)
    else:
        new = draw(st.sampled_from(REPLACEMENTS))
    if not path:
        return new
    parent[path[-1]] = new
    return value


def mutations(seeds: list[Any], focus: frozenset[str]) -> st.SearchStrategy[Any]:
    @st.composite
    def mutated(draw):
        value = copy.deepcopy(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 3))):
            value = _mutate_once(draw, value, focus)
        return value

    return mutated()


def _cuts(text: str) -> list[str]:
    """Every way to cut ``text`` after a complete value, closed again into valid JSON:
    what a body truncated mid-stream would hold if the cut fell between items."""
    cuts, stack, in_string, escaped = [], [], False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append("]" if ch == "[" else "}")
            cuts.append(text[: i + 1] + "".join(reversed(stack)))
        elif ch in "]}":
            stack.pop()
        elif ch == ",":
            cuts.append(text[:i] + "".join(reversed(stack)))
    return cuts


def truncations(seeds: list[Any]) -> st.SearchStrategy[Any]:
    cuts = [cut for seed in seeds for cut in _cuts(json.dumps(seed))]
    return st.sampled_from(cuts).map(json.loads)


def payloads(seeds: list[Any], reads: str) -> st.SearchStrategy[Any]:
    """Arbitrary JSON (its keys often ones the parser reads), mutated and truncated seeds."""
    focus = frozenset(reads.split())
    keys = st.sampled_from(sorted(focus)) | PAYLOAD_KEYS
    arbitrary = st.recursive(
        JSON_SCALARS,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=5),
        max_leaves=20,
    )
    return st.one_of(arbitrary, mutations(seeds, focus), truncations(seeds))


def test_cuts_are_valid_json():
    for seed in ALL_SEEDS:
        for cut in _cuts(json.dumps(seed)):
            json.loads(cut)


# --- 3. sources: what a good result looks like --------------------------------------------


def _finite(value: Any) -> bool:
    return type(value) is float and math.isfinite(value)


def _check_point(point: Any, probability: bool) -> None:
    assert isinstance(point, Point)
    assert isinstance(point.ts, datetime) and point.ts.tzinfo is not None
    assert _finite(point.value), point
    assert point.high is None or _finite(point.high), point
    assert point.low is None or _finite(point.low), point
    if probability:
        assert 0.0 <= point.value <= 1.0, point


def _check_series(series: Any, probability: bool) -> None:
    assert isinstance(series, SeriesData)
    assert isinstance(series.symbol, str)
    for point in series.points:
        _check_point(point, probability)
    # name and unit are stored in text columns: anything else would fail the whole batch
    assert series.name is None or isinstance(series.name, str), series.name
    assert series.unit is None or isinstance(series.unit, str), series.unit
    if series.resolved_value is not None:
        assert _finite(series.resolved_value), series.resolved_value
        if probability:
            assert 0.0 <= series.resolved_value <= 1.0, series.resolved_value


def _parse(call):
    """The parser's result, or None when it raised the one kind of error it may raise."""
    try:
        return call()
    except SourceError as exc:
        assert str(exc), "a SourceError needs a message for the user"
        return None


def _slugs(payload: Any) -> list[str]:
    found = [m["slug"] for m in payload if isinstance(m, dict) and isinstance(m.get("slug"), str)
             ] if isinstance(payload, list) else []
    return sorted(set(found)) + ["no-such-slug"]


# --- 3. sources: one property per parser --------------------------------------------------

YAHOO = _seeds("yahoo", "*.json")
FRED_JSON = _seeds("fred", "*.json")
PM_MARKETS = _seeds("polymarket", "markets_*.json")
PM_HISTORY = _seeds("polymarket", "prices_history_*.json")
PM_SEARCH = _seeds("polymarket", "public_search_*.json")
KALSHI_MARKETS = _seeds("kalshi", "market_*.json") + _seeds("kalshi", "event_*.json")
KALSHI_CANDLES = _seeds("kalshi", "candles_*.json")


def test_yahoo_parse_chart(fault_result):
    @_settings(N_PARSER)
    @given(payloads(YAHOO, "chart result error code description meta timestamp indicators "
                           "quote close high low exchangeTimezoneName shortName longName currency"))
    @example({"chart": {"result": [{"meta": {"exchangeTimezoneName": "America"},
                                     "timestamp": [1e308], "indicators": {"quote": [
                                         {"close": [10**400], "high": [1.0], "low": [None]}]}}]}})
    @example({"chart": {"result": [{"meta": [], "indicators": {"quote": "x"}}]}})
    def prop(payload):
        result = _parse(lambda: yahoo.parse_chart(payload, "SYM"))
        if result is not None:
            _check_series(result, probability=False)

    _run(fault_result, "arbitrary and mutated chart JSON", "yahoo.parse_chart", prop,
         N_PARSER)


def test_fred_parse_json(fault_result):
    @_settings(N_PARSER)
    @given(payloads(FRED_JSON, "observations date value units error_message"))
    @example({"observations": [{"date": None, "value": "1"}]})
    @example({"observations": [{"date": "2026-01-01", "value": "1e400"}], "units": ["x"]})
    def prop(payload):
        result = _parse(lambda: fred.parse_json(payload, "GDPC1"))
        if result is not None:
            _check_series(result, probability=False)

    _run(fault_result, "arbitrary and mutated observations JSON", "fred.parse_json", prop,
         N_PARSER)


def test_polymarket_parse_markets(fault_result):
    @_settings(N_PARSER)
    @given(payloads(PM_MARKETS, "slug outcomes outcomePrices clobTokenIds umaResolutionStatus "
                                "closed question id conditionId endDate"))
    @example([{"slug": ["x"]}, {"slug": "a", "question": ["q"], "outcomes": ["Yes", "No"],
               "outcomePrices": ["0.5", "0.5"]}])
    @example([{"slug": "a", "outcomes": "[" * 100_000, "outcomePrices": "[]"}])
    def prop(payload):
        slugs = _slugs(payload)
        report = _parse(lambda: polymarket.parse_markets(payload, slugs, NOW))
        if report is None:
            return
        assert isinstance(report, SourceReport)
        for series in report.series:
            _check_series(series, probability=True)
        answered = [s.symbol for s in report.series] + list(report.errors)
        assert sorted(answered) == sorted(slugs)  # a series or an error for each slug
        assert all(isinstance(m, str) and m for m in report.errors.values())

    _run(fault_result, "arbitrary and mutated Gamma /markets JSON", "polymarket.parse_markets",
         prop, N_PARSER)


def test_polymarket_parse_history(fault_result):
    @_settings(N_PARSER)
    @given(payloads(PM_HISTORY, "history t p"))
    @example({"history": [{"t": 1e308, "p": 0.5}]})
    @example({"history": [{"t": float("inf"), "p": 0.5}]})
    def prop(payload):
        result = _parse(lambda: polymarket.parse_history(payload))
        for ts, price in result or []:
            _check_point(Point(ts=ts, value=price), probability=True)

    _run(fault_result, "arbitrary and mutated prices-history JSON", "polymarket.parse_history",
         prop, N_PARSER)


def test_polymarket_parse_search(fault_result):
    @_settings(N_PARSER)
    @given(payloads(PM_SEARCH, "events markets slug outcomes outcomePrices question title "
                               "endDate closed"))
    @example({"events": 5})
    @example({"events": [{"markets": 5}]})
    @example({"events": [{"markets": [{"slug": "a", "outcomes": "[" * 100_000}]}]})
    def prop(payload):
        result = _parse(lambda: polymarket.parse_search(payload))
        for found in result or []:
            price = found["yes_price"]
            assert price is None or (_finite(price) and 0.0 <= price <= 1.0), found
            assert isinstance(found["closed"], bool)

    _run(fault_result, "arbitrary and mutated /public-search JSON", "polymarket.parse_search",
         prop, N_PARSER)


def test_kalshi_parse_market(fault_result):
    @_settings(N_PARSER)
    @given(payloads(KALSHI_MARKETS, "market status result yes_bid_dollars yes_ask_dollars "
                                    "last_price_dollars settlement_value_dollars title "
                                    "event_ticker yes_bid"))
    @example({"market": {"last_price_dollars": "nan", "title": ["t"]}})
    @example({"market": {"result": "scalar", "settlement_value_dollars": "5"}})
    def prop(payload):
        result = _parse(lambda: kalshi.parse_market(payload, "KX-T", NOW))
        if result is not None:
            _check_series(result, probability=True)

    _run(fault_result, "arbitrary and mutated market JSON", "kalshi.parse_market", prop,
         N_PARSER)


def test_kalshi_parse_candlesticks(fault_result):
    @_settings(N_PARSER)
    @given(payloads(KALSHI_CANDLES, "candlesticks end_period_ts price yes_bid yes_ask close "
                                    "close_dollars previous previous_dollars"))
    @example({"candlesticks": [{"end_period_ts": 1e308}]})
    @example({"candlesticks": [{"end_period_ts": 1, "price": {"close_dollars": "-1"}}]})
    @example({"candlesticks": [{"end_period_ts": 1, "price": {"previous": "Infinity"}}]})
    def prop(payload):
        for point in _parse(lambda: kalshi.parse_candlesticks(payload)) or []:
            _check_point(point, probability=True)

    _run(fault_result, "arbitrary and mutated candlesticks JSON", "kalshi.parse_candlesticks",
         prop, N_PARSER)


# --- 3. sources: FRED's CSV ---------------------------------------------------------------

FRED_CSV = {p.name.split("_")[0]: p.read_text() for p in sorted((FIXTURES / "fred").glob("*.csv"))}
CSV_CELLS = st.sampled_from([
    "", ".", "nan", "NaN", "inf", "-Infinity", "1e400", "-1e400", "abc", '"', '"quoted"',
    "1,2", "2026-13-45", "2026-01-01", "20260101", "\r", "\x00", " 5.5 ", "x" * 200_000,
]) | TEXT
HTML = "<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Oops</body></html>\n"


@st.composite
def mutated_csv(draw) -> tuple[str, str]:
    series_id = draw(st.sampled_from(sorted(FRED_CSV)))
    rows = [line.split(",") for line in FRED_CSV[series_id].splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["header", "cell", "drop", "insert", "html", "cut", "bom"]))
        r = draw(st.integers(0, len(rows) - 1)) if rows else 0
        if op == "header" and rows and rows[0]:
            rows[0] = list(rows[0])
            rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(
                st.sampled_from(["date", "Date", "observation_date", "value", "OTHER", ""]) | TEXT
            )
        elif op == "cell" and rows and rows[r]:
            rows[r] = list(rows[r])
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(CSV_CELLS)
        elif op == "drop" and rows:
            del rows[r]
        elif op == "insert":
            rows.insert(r, draw(st.lists(CSV_CELLS, max_size=4)))
        elif op == "html":
            return HTML, series_id
        elif op == "cut":
            text = "\n".join(",".join(row) for row in rows)
            rows = [line.split(",") for line in text[: draw(st.integers(0, len(text)))].split("\n")]
        elif op == "bom" and rows and rows[0]:
            rows[0] = ["\ufeff" + rows[0][0], *rows[0][1:]]
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join(",".join(row) for row in rows) + ending, series_id


def test_fred_parse_csv(fault_result):
    @_settings(N_PARSER)
    @given(mutated_csv() | st.tuples(st.text(), st.sampled_from(sorted(FRED_CSV))))
    @example(("DATE,X\r2026-01-01,1\r", "X"))  # csv.Error: a bare carriage return
    @example(("DATE,X\n2026-01-01," + "9" * 200_000 + "\n", "X"))  # csv.Error: field limit
    @example(("DATE,X\n2026-01-01,nan\n2026-01-02,1e400\n", "X"))
    def prop(case):
        text, series_id = case
        result = _parse(lambda: fred.parse_csv(text, series_id))
        if result is not None:
            _check_series(result, probability=False)

    _run(fault_result, "arbitrary text and mutated fredgraph.csv", "fred.parse_csv", prop,
         N_PARSER)
