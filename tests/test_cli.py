"""The command line: exit codes, one-line errors without tracebacks, --json shapes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')
    return path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_check_on_the_shipped_config_exits_0():
    result = run("--config", REPO / "config.toml", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")


def test_misspelt_key_exits_2_naming_it_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\nurll = "x"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "--config", str(bad), "check"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == f"tracker: {bad}: database.urll: unknown key"


def test_every_command_refuses_a_bad_config(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[schedule]\nprices_every = "often"\n')
    for command in ("check", "status", "series", "poll"):
        result = run("--config", bad, command)
        assert result.exit_code == 2, command
        assert "schedule.prices_every: bad duration" in result.stderr
        assert "Traceback" not in result.stderr


def test_check_lists_every_registry_problem(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[[prediction]]\nid = "a"\nwho = "A"\nmade_on = 2026-01-01\nclaim = "x"\nkind = "guess"\n\n'
        '[[prediction]]\nid = "b"\nwho = "B"\nmade_on = 2026-01-01\nclaim = "y"\nkind = "race"\n'
        'series = "yahoo:CL=F"\ntarget = 45\n'
    )
    result = run("--config", path, "check")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert any("prediction 'a': kind: unknown kind 'guess'" in line for line in lines)
    assert any("prediction 'b': against: missing" in line for line in lines)


def test_unknown_source_is_bad_usage(config):
    result = run("--config", config, "poll", "--source", "bloomberg")
    assert result.exit_code == 2
    assert "unknown source 'bloomberg'" in result.stderr


def test_status_json_before_any_poll(config):
    assert run("--config", config, "migrate").exit_code == 0  # a read command creates nothing
    result = run("--config", config, "status", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {row["id"] for row in rows} >= {"chamath-oil-45-before-65"}
    assert set(rows[0]) == {
        "id", "who", "claim", "kind", "made_on", "deadline", "status",
        "probability", "value", "as_of", "evaluated_at", "explanation", "side", "part_of",
    }
    assert all(row["status"] == "no_data" for row in rows)


def test_series_json_is_an_empty_list_on_a_new_database(config):
    assert run("--config", config, "migrate").exit_code == 0
    result = run("--config", config, "series", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_unreachable_database_is_one_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    result = run("--config", path, "status")
    assert result.exit_code == 1
    assert result.stderr.startswith("tracker: cannot open database")
    assert len(result.stderr.strip().splitlines()) == 1


# ---- status: a line per claim, filters ---------------------------------------------------

def status_lines(config, *args, columns="80"):
    from tests.forked_cli import run_tracker

    done = run_tracker(["--config", str(config), "status", *args],
                       env={**os.environ, "COLUMNS": columns})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_status_is_a_line_per_prediction_within_80_columns_ids_whole(config):
    assert run("--config", config, "migrate").exit_code == 0
    rows = json.loads(run("--config", config, "status", "--json").stdout)
    lines = status_lines(config)
    assert len(lines) == len(rows) + 2  # a header and a hint
    assert max(len(line) for line in lines) <= 80
    assert [line.split()[0] for line in lines[1:-1]] == [row["id"] for row in rows]
    wide = status_lines(config, "--wide")
    assert wide[0].startswith("┏") and len(wide) > 3 * len(rows)


def test_status_filters_apply_to_text_and_json(config):
    assert run("--config", config, "migrate").exit_code == 0
    lines = status_lines(config, "--who", "SACKS", "--kind", "market,estimate", "--open")
    as_json = json.loads(run("--config", config, "status", "--who", "SACKS", "--kind",
                             "market,estimate", "--open", "--json").stdout)
    assert as_json and {row["who"] for row in as_json} == {"David Sacks"}
    assert {row["kind"] for row in as_json} <= {"market", "estimate"}
    assert [line.split()[0] for line in lines[1:-1]] == [row["id"] for row in as_json]
    nothing = json.loads(run("--config", config, "status", "--status", "right,void",
                             "--status", "wrong", "--json").stdout)
    assert nothing == []  # nothing polled: every claim reads no_data
    assert status_lines(config, "--status", "wrong") == ["no predictions match"]


@pytest.mark.parametrize("args, named", [
    (["--status", "wrong,ontrack"], "unknown status 'ontrack' (known: right, wrong, on_track"),
    (["--kind", "guess"], "unknown kind 'guess' (known: threshold, race, market"),
    (["--who", "nobody"], "no predictions by 'nobody' (people: Chamath Palihapitiya"),
])
def test_a_bad_status_filter_is_one_line_of_usage_error(config, args, named):
    from tests.forked_cli import run_tracker

    assert run("--config", config, "migrate").exit_code == 0
    for extra in ([], ["--json"]):
        done = run_tracker(["--config", str(config), "status", *args, *extra])
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith("tracker: ") and named in done.stderr
        assert len(done.stderr.splitlines()) == 1
