"""FRED parsing on recorded responses (tests/fixtures/fred/SOURCES.md)."""

import json
from datetime import date

import pytest

from tests.replay import FIXTURES
from tracker.sources.base import NotFound, PayloadError, SourceError
from tracker.sources.fred import parse_csv, parse_json


def text(name):
    return (FIXTURES / "fred" / name).read_text()


def dates(series):
    return [p.ts.date() for p in series.points]


def test_new_header_and_empty_missing_value():
    series = parse_csv(text("DCOILWTICO_observation_date_empty_missing.csv"), "DCOILWTICO")
    assert len(series.points) == 60  # 61 rows, the last one empty
    assert dates(series)[0] == date(2021, 4, 1)
    assert dates(series)[-1] == date(2026, 3, 1)
    assert series.points[-1].value == 91.38


def test_old_header_and_dot_missing_value():
    series = parse_csv(text("NASDAQCOM_DATE_dot_missing.csv"), "NASDAQCOM")
    assert len(series.points) == 27  # 30 rows, three holidays written "."
    for holiday in (date(2019, 12, 25), date(2020, 1, 1), date(2020, 1, 20)):
        assert holiday not in dates(series)
    assert series.points[0].value == 8814.23


def test_old_header_fed_target():
    series = parse_csv(text("DFEDTARU_DATE_header.csv"), "DFEDTARU")
    assert len(series.points) == 30  # 2024-02-20 .. 2024-03-20, a leap year
    assert {p.value for p in series.points} == {5.5}


def test_html_instead_of_csv_is_refused():
    with pytest.raises(PayloadError, match="HTML"):
        parse_csv("<!DOCTYPE html><html><body>Just a moment...</body></html>", "DFEDTARU")


def test_unexpected_header_is_refused():
    with pytest.raises(PayloadError, match="header"):
        parse_csv("when,value\n2024-01-01,1\n", "DFEDTARU")


def test_api_values_are_strings():
    payload = json.loads(text("GDPC1_api_observations.json"))
    series = parse_json(payload, "GDPC1")
    assert dates(series) == [date(1947, 1, 1), date(1947, 4, 1), date(1947, 7, 1),
                             date(1947, 10, 1), date(1948, 1, 1)]
    assert series.points[0].value == 2182.681


def test_api_dot_values_are_missing():
    payload = json.loads(text("UMCSENT_api_observations_dot_missing.json"))
    assert parse_json(payload, "UMCSENT").points == []


def test_api_error_body_is_said_plainly():
    payload = json.loads(text("api_key_not_set_400.json"))
    with pytest.raises(SourceError, match="Variable api_key is not set"):
        parse_json(payload, "DFEDTARU")


def test_an_unknown_series_is_not_found():
    payload = json.loads(text("series_does_not_exist_400.json"))
    with pytest.raises(NotFound, match="^no such series$"):
        parse_json(payload, "NOSUCHSERIES")


def test_other_api_errors_are_not_not_found():
    payload = json.loads(text("api_key_not_set_400.json"))
    with pytest.raises(SourceError) as raised:
        parse_json(payload, "DFEDTARU")
    assert not isinstance(raised.value, NotFound)
