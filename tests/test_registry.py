"""The registry: the bundled file loads, and every mistake names the prediction and field."""

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from tracker.config import settings_from_dict
from tracker.registry import RegistryError, load_registry
from tracker.registry.loader import check_registry

GOOD = {
    "id": "me-gold",
    "who": "Me",
    "made_on": __import__("datetime").date(2026, 2, 1),
    "claim": "Gold above $5,000.",
    "kind": "threshold",
    "series": "yahoo:GC=F",
    "target": 5000,
    "direction": "above",
}


def problems_for(table, bundled=False):
    settings = settings_from_dict({"registry": {"bundled": bundled}, "prediction": [table]})
    return check_registry(settings)[1]


def test_bundled_registry_loads_with_defaults_filled():
    registry = load_registry(settings_from_dict({}))
    oil = registry.get("chamath-oil-45-before-65")
    assert oil.kind == "race"
    assert oil.series == "yahoo:CL=F"
    assert oil.start == oil.made_on
    assert str(oil.deadline) == "2026-12-31"
    assert "yahoo:CL=F" in registry.series_ids()


def test_bundled_market_calls_take_their_own_sides():
    registry = load_registry(settings_from_dict({}))
    ballot = "polymarket:billionaire-one-time-wealth-tax-on-california-ballot"
    friedberg = registry.get("friedberg-wealth-tax-not-on-ballot")
    chamath = registry.get("chamath-wealth-tax-on-ballot-but-fails")
    assert (friedberg.series, friedberg.side) == (ballot, "no")
    parts = [registry.get(pid) for pid in chamath.of]
    assert [(p.series, p.side) for p in parts] == [
        (ballot, "yes"),
        ("polymarket:billionaire-one-time-wealth-tax-passes-in-california-election-2026", "no"),
    ]
    ipos = registry.get("jason-two-big-private-companies-ipo")
    assert (ipos.kind, ipos.n, len(ipos.of)) == ("at_least", 2, 5)
    # Parts that only build a composite are not claims of their own on the scoreboard.
    assert not any(registry.get(pid).scored for pid in ipos.of + chamath.of)
    assert friedberg.scored and chamath.scored and ipos.scored


def test_a_users_prediction_joins_the_registry():
    settings = settings_from_dict({"prediction": [GOOD]})
    registry = load_registry(settings)
    assert registry.get("me-gold").touch is True  # the default


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"kind": "vibes"}, "prediction 'me-gold': kind: unknown kind 'vibes'"),
        ({"target": None}, "prediction 'me-gold': target: missing"),
        ({"series": "GC=F"}, "prediction 'me-gold': series: malformed series id 'GC=F'"),
        ({"series": "stooq:gc.f"}, "prediction 'me-gold': series: unknown source 'stooq'"),
        ({"direction": "sideways"}, "prediction 'me-gold': direction:"),
        ({"targte": 5}, "prediction 'me-gold': targte: unknown field"),
        ({"deadline": __import__("datetime").date(2025, 1, 1)}, "deadline 2025-01-01 is before start"),
        ({"id": "Has Spaces"}, "id:"),
        ({"made_on": "2026-02-01"}, "made_on:"),
    ],
)
def test_mistakes_name_the_prediction_and_the_field(change, expected):
    table = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    problems = problems_for(table)
    assert problems, "expected a problem"
    assert any(expected in p for p in problems), problems


def test_duplicate_ids_are_refused():
    settings = settings_from_dict({"registry": {"bundled": False}, "prediction": [GOOD, GOOD]})
    _, problems = check_registry(settings)
    assert problems == ["config: prediction 'me-gold': id: already defined in config"]


def test_registry_files_are_read_relative_to_the_config(tmp_path):
    (tmp_path / "mine.toml").write_text(
        '[[prediction]]\nid = "x-oil"\nwho = "X"\nmade_on = 2026-01-05\nclaim = "Oil up."\n'
        'kind = "threshold"\nseries = "yahoo:CL=F"\ntarget = 80\ndirection = "above"\n'
    )
    (tmp_path / "config.toml").write_text('[registry]\nbundled = false\nfiles = ["mine.toml"]\n')
    from tracker.config import load_settings

    registry = load_registry(load_settings(tmp_path / "config.toml"))
    assert [p.id for p in registry] == ["x-oil"]


def test_missing_registry_file_is_one_clear_error(tmp_path):
    settings = settings_from_dict({"registry": {"files": [str(tmp_path / "gone.toml")]}})
    with pytest.raises(RegistryError, match="gone.toml: no such registry file"):
        load_registry(settings)


def test_a_target_that_is_not_a_finite_number_is_refused():
    table = {**GOOD, "target": float("nan")}
    assert problems_for(table) == ["config: prediction 'me-gold': target: Input should be a finite number"]


def test_a_universe_is_declared_once_and_named_by_rank_predictions(tmp_path):
    (tmp_path / "mine.toml").write_text(
        '[universe.metals]\n"Gold" = "yahoo:GLD"\n"Silver" = "yahoo:SLV"\n"Copper" = "yahoo:HG=F"\n\n'
        '[[prediction]]\nid = "x-gold-best"\nwho = "X"\nmade_on = 2026-01-05\nclaim = "Gold wins."\n'
        'kind = "rank"\nseries = "yahoo:GLD"\nuniverse = "metals"\n'
    )
    settings = settings_from_dict({"registry": {"bundled": False, "files": [str(tmp_path / "mine.toml")]}})
    registry = load_registry(settings)
    gold = registry.get("x-gold-best")
    assert gold.rivals() == ["yahoo:SLV", "yahoo:HG=F"]  # the ranked series is not its own rival
    assert gold.universe_name == "metals"
    assert registry.universes["metals"]["Copper"] == "yahoo:HG=F"


@pytest.mark.parametrize("text, expected", [
    (('[[prediction]]\nid = "x"\nwho = "X"\nmade_on = 2026-01-05\nclaim = "c"\nkind = "rank"\n'
      'series = "yahoo:GLD"\nuniverse = "metals"\n'),
     "prediction 'x': (prediction): universe: unknown universe 'metals' (known: none declared)"),
    ('[universe.metals]\n"Gold" = "yahoo:GLD"\n"Tin" = "tin"\n',
     "universe 'metals': 'Tin': malformed series id 'tin': expected '<source>:<symbol>'"),
    ('[universe.metals]\n"Gold" = "yahoo:GLD"\n',
     "universe 'metals': expected a table of at least two 'label = \"series\"'"),
])
def test_universe_mistakes_are_one_clear_line(tmp_path, text, expected):
    (tmp_path / "mine.toml").write_text(text)
    settings = settings_from_dict({"registry": {"bundled": False, "files": [str(tmp_path / "mine.toml")]}})
    assert check_registry(settings)[1] == [f"{tmp_path / 'mine.toml'}: {expected}"]


# ---- the user's own file, and the TOML `tracker add` writes -----------------------------

MINE = ('[[prediction]]\nid = "me-oil"\nwho = "Me"\nmade_on = 2026-01-05\nclaim = "Oil up."\n'
        'kind = "threshold"\nseries = "yahoo:CL=F"\ntarget = 80\ndirection = "above"\n')


def test_predictions_toml_beside_the_config_is_read_when_it_exists(tmp_path):
    from tracker.config import load_settings

    (tmp_path / "config.toml").write_text("[registry]\nbundled = false\n")
    settings = load_settings(tmp_path / "config.toml")
    assert list(load_registry(settings)) == []  # none yet: nothing to read, no error
    (tmp_path / "predictions.toml").write_text(MINE)
    assert [p.id for p in load_registry(settings)] == ["me-oil"]


def test_the_own_file_listed_in_registry_files_is_read_once(tmp_path):
    from tracker.config import load_settings

    (tmp_path / "predictions.toml").write_text(MINE)
    (tmp_path / "config.toml").write_text(
        '[registry]\nbundled = false\nfiles = ["./predictions.toml"]\n')
    registry, problems = check_registry(load_settings(tmp_path / "config.toml"))
    assert problems == []  # not "already defined"
    assert [p.id for p in registry] == ["me-oil"]


def test_without_a_config_file_the_own_file_is_in_the_user_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "tracker").mkdir()
    (tmp_path / "tracker" / "predictions.toml").write_text(MINE)
    registry = load_registry(settings_from_dict({"registry": {"bundled": False}}))
    assert [p.id for p in registry] == ["me-oil"]


def test_a_broken_own_file_is_reported_like_any_registry_file(tmp_path):
    from tracker.config import load_settings

    (tmp_path / "config.toml").write_text("")
    (tmp_path / "predictions.toml").write_text("[[prediction]\n")
    _, problems = check_registry(load_settings(tmp_path / "config.toml"))
    assert problems[0].startswith(f"{tmp_path / 'predictions.toml'}: invalid TOML")


TRICKY_TEXT = ['say "hi"', "back\\slash", "C:\\new\\table", "two\nlines", "tab\there", "\x00nul",
               "\x7fdel", "\x1b[31mred", "\r\n", "line\u2028sep", "\u202eevil", "'''", '"""',
               "\U0001f600 smile", "\x9bcsi", "", " ", "#", "[[prediction]]", "\ufeffbom"]


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_toml_strings_read_back_as_written(text):
    import tomllib

    from tracker.registry.writer import toml_string

    written = toml_string(text)
    assert "\n" not in written and "\r" not in written  # one line, whatever the text
    assert all(char.isprintable() for char in written)  # nothing hidden in the file
    assert tomllib.loads(f"x = {written}\n") == {"x": text}


def test_a_lone_surrogate_is_refused_not_written():
    from tracker.registry.writer import prediction_table

    with pytest.raises(RegistryError, match="claim: not valid Unicode text"):
        prediction_table({**GOOD, "claim": "bad \udcff byte"})


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_FIELDS = st.fixed_dictionaries({
    "who": _TEXT.filter(str.strip), "claim": _TEXT.filter(str.strip), "notes": _TEXT,
    "category": _TEXT,
    "target": st.floats(allow_nan=False, allow_infinity=False),
    "made_on": st.dates(),
    "meetings": st.lists(st.dates(), min_size=1, max_size=3),
    "touch": st.booleans(),
})


@examples(max_examples=400, deadline=None, derandomize=True, database=None)
@given(_FIELDS)
def test_a_written_table_reads_back_with_the_same_values(fields):
    import tomllib

    from tracker.registry.writer import prediction_table

    table = {"id": "me-any", "kind": "threshold", "series": "yahoo:GC=F", "direction": "above",
             **fields, "step": 0.25}
    parsed = tomllib.loads(prediction_table(table))["prediction"]
    assert parsed == [table]
    assert {k: type(v) for k, v in parsed[0].items()} == {k: type(v) for k, v in table.items()}


def test_every_example_in_the_registry_guide_is_valid_and_the_bundled_ones_are_real():
    import re
    import tomllib
    from pathlib import Path

    from tracker.registry.loader import parse_prediction

    guide = (Path(__file__).resolve().parents[1] / "docs" / "registry.md").read_text()
    found = re.findall(r"```toml\n(.*?)```", guide, flags=re.DOTALL)
    blocks = [tomllib.loads(block) for block in found]
    bundled = load_registry(settings_from_dict({}))
    tables = [t for block in blocks for t in block.get("prediction", [])]
    kinds = set()
    for table in tables:
        prediction = parse_prediction(table, "docs/registry.md", 1, bundled.universes)
        kinds.add(prediction.kind)
        real = bundled.get(prediction.id)
        if real is not None:  # quoted from the bundled registry: field for field
            assert {k: getattr(real, k) for k in table} == prediction.model_dump(include=set(table))
    assert kinds >= {"threshold", "race", "market", "outperform", "rank", "level", "estimate",
                     "filing", "manual", "at_least"}
    declared = next(b["universe"] for b in blocks if "universe" in b)
    assert declared == bundled.universes


@pytest.mark.parametrize(("target", "shown"), [(1_000_000, "1,000,000"), (4250, "4,250"),
                                                (0.75, "0.75"), (0.0000005, "0.0000005")])
def test_a_rule_writes_its_level_as_people_do(target, shown):
    from datetime import date

    from tracker.registry.rules import describe_rule

    registry = load_registry(settings_from_dict({"registry": {"bundled": False}, "prediction": [
        {"id": "mine", "who": "Me", "made_on": date(2026, 1, 10), "deadline": date(2026, 12, 31),
         "claim": "c", "kind": "threshold", "series": "yahoo:BATS.L", "target": target,
         "direction": "above"}]}))
    rule = describe_rule(registry.get("mine"))
    assert f">= {shown} " in rule and "e+" not in rule and "e-" not in rule
