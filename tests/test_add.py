"""`tracker add`: a prediction written by flags (or answers in a terminal) joins the
registry, `tracker check` counts it and `tracker show` tells it; anything wrong is one
line and leaves the file as it was."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.forked_cli import run_tracker
from tracker.cli import add as add_command
from tracker.cli import cli
from tracker.config import load_settings, settings_from_dict
from tracker.registry import RegistryError, load_registry
from tracker.registry.schema import KINDS
from tracker.registry.writer import add_prediction

GOLD = ["--id", "me-gold-5000", "--who", "Me", "--kind", "threshold", "--made-on", "2026-02-01",
        "--claim", "Gold trades above $5,000 in 2026.", "--series", "yahoo:GC=F",
        "--target", "5000", "--direction", "above"]


@pytest.fixture
def home(tmp_path):
    """A folder with a config.toml whose database is beside it."""
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')
    return tmp_path


def tracker(home: Path, *args: str, main: str = "tracker.cli") -> subprocess.CompletedProcess:
    return run_tracker(["--config", str(home / "config.toml"), *args], cwd=home, main=main)


def counted(check_output: str) -> int:
    return int(re.search(r"^ok: (\d+) predictions reading", check_output).group(1))


def test_add_then_check_counts_it_and_show_tells_it(home):
    assert tracker(home, "migrate").returncode == 0  # show reads a database; add needs none
    before = tracker(home, "check", main="tracker.entry")  # leaves the lean path's cache
    assert before.returncode == 0, before.stderr

    added = tracker(home, "add", *GOLD)
    assert added.returncode == 0, added.stderr
    assert f"added me-gold-5000 to {home / 'predictions.toml'} (a new file)" in added.stdout
    assert 'series = "yahoo:GC=F"' in added.stdout
    assert "tracker --config" in added.stdout and " check` to validate" in added.stdout
    assert " poll` to fetch its data" in added.stdout

    after = tracker(home, "check", main="tracker.entry")  # the cache must see the new file
    assert after.returncode == 0, after.stderr
    assert counted(after.stdout) == counted(before.stdout) + 1
    shown = tracker(home, "show", "me-gold-5000", main="tracker.entry")
    assert shown.returncode == 0, shown.stderr
    assert "Claim: Gold trades above $5,000 in 2026." in shown.stdout
    assert "Right if Gold touches >= 5,000 between 2026-02-01 and 2026-12-31" in shown.stdout


def test_without_a_config_file_the_user_config_folder_holds_the_file(tmp_path):
    config_home = tmp_path / "xdg"
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    env.pop("TRACKER_CONFIG", None)
    before = run_tracker(["check"], cwd=tmp_path, env=env)
    added = run_tracker(["add", *GOLD], cwd=tmp_path, env=env)
    assert added.returncode == 0, added.stderr
    own = config_home / "tracker" / "predictions.toml"
    assert own.is_file()
    after = run_tracker(["check"], cwd=tmp_path, env=env)
    assert counted(after.stdout) == counted(before.stdout) + 1
    assert not (tmp_path / "predictions.toml").exists()


def test_the_first_registry_file_of_the_config_is_appended_to_comments_and_all(home):
    mine = home / "mine.toml"
    kept = ('# my calls, newest last\r\n\r\n[[prediction]]\r\nid = "me-rain"  # by hand\r\n'
            'who = "Me"\r\nmade_on = 2026-01-02\r\nclaim = "It rains on the 3rd."\r\n'
            'kind = "manual"')  # CRLF, and no newline at the end
    mine.write_bytes(kept.encode())
    with (home / "config.toml").open("a") as config:
        config.write('[registry]\nfiles = ["mine.toml"]\n')

    added = tracker(home, "add", *GOLD)
    assert added.returncode == 0, added.stderr
    text = mine.read_bytes().decode()
    assert text.startswith(kept + "\n")  # byte for byte, then the new table
    assert text.count("[[prediction]]") == 2
    assert not (home / "predictions.toml").exists()
    registry = load_registry(load_settings(home / "config.toml"))
    assert registry.get("me-rain") and registry.get("me-gold-5000").target == 5000


def test_a_registry_file_the_config_names_is_created_by_the_first_add(home):
    with (home / "config.toml").open("a") as config:
        config.write('[registry]\nfiles = ["calls/mine.toml"]\n')
    added = tracker(home, "add", *GOLD)
    assert added.returncode == 0, added.stderr
    assert (home / "calls" / "mine.toml").is_file()
    assert tracker(home, "check").returncode == 0


def test_missing_fields_without_a_terminal_are_one_usage_error(home):
    result = tracker(home, "add", "--id", "me-oil", "--who", "Me", "--claim", "Oil up.",
                     "--kind", "race", "--series", "yahoo:CL=F")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("tracker: missing --target, --against for a race prediction "
                             "(see 'tracker add --help')\n")
    assert not (home / "predictions.toml").exists()


def test_nothing_given_names_the_common_fields(home):
    result = tracker(home, "add")
    assert result.returncode == 2
    assert result.stderr.startswith("tracker: missing --id, --who, --claim, --kind ")


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "nan"], "tracker: --target: Input should be a finite number"),
    (["--side", "yes"], "tracker: --side: not a field of a threshold prediction"),
    (["--series", "bloomberg:GOLD"], "tracker: --series: unknown source 'bloomberg'"),
    (["--id", "Me Gold"], "tracker: --id: String should match pattern"),
    (["--deadline", "2026-01-01"], "tracker: deadline 2026-01-01 is before start 2026-02-01"),
    (["--made-on", "2026-02-30"], "tracker: Invalid value for '--made-on'"),
])
def test_a_bad_value_is_one_line_and_writes_nothing(home, args, message):
    result = tracker(home, "add", *GOLD, *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]


def test_an_id_taken_anywhere_in_the_registry_is_refused(home):
    (home / "predictions.toml").write_text("# mine\n")
    taken = ["--id", "chamath-oil-45-before-65", *GOLD[2:]]
    result = tracker(home, "add", *taken)
    assert result.returncode == 2
    assert "--id: 'chamath-oil-45-before-65' is taken" in result.stderr
    assert tracker(home, "add", *GOLD).returncode == 0
    again = tracker(home, "add", *GOLD)
    assert again.returncode == 2 and "'me-gold-5000' is taken" in again.stderr
    assert (home / "predictions.toml").read_text().count("[[prediction]]") == 1


def test_a_file_that_does_not_parse_is_left_as_it_was(home):
    broken = b'[[prediction]]\nid = "me-x\n'
    (home / "predictions.toml").write_bytes(broken)
    result = tracker(home, "add", *GOLD)
    assert result.returncode == 2
    assert "invalid TOML" in result.stderr
    assert (home / "predictions.toml").read_bytes() == broken


def test_a_file_whose_predictions_cannot_be_extended_is_left_as_it_was(home):
    inline = (b'prediction = [{id = "me-a", who = "A", made_on = 2026-01-01, claim = "c", '
              b'kind = "manual"}]\n')
    (home / "predictions.toml").write_bytes(inline)
    result = tracker(home, "add", *GOLD)
    assert result.returncode == 2
    assert "the file was left as it was" in result.stderr
    assert (home / "predictions.toml").read_bytes() == inline
    assert sorted(p.name for p in home.iterdir()) == ["config.toml", "predictions.toml"]


def test_a_file_outside_the_registry_is_written_with_a_note(home):
    result = tracker(home, "add", *GOLD, "--file", str(home / "elsewhere.toml"))
    assert result.returncode == 0, result.stderr
    assert "note: the registry does not read this file: list it in [registry] files" in (
        result.stdout)
    assert (home / "elsewhere.toml").is_file()


def test_json_says_what_was_written(home):
    result = tracker(home, "add", *GOLD, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["id"] == "me-gold-5000"
    assert found["file"] == str(home / "predictions.toml")
    assert found["created"] is True and found["read_by_registry"] is True
    assert found["fields"]["made_on"] == "2026-02-01" and found["fields"]["target"] == 5000.0
    assert found["toml"] in (home / "predictions.toml").read_text()


def test_composites_and_named_universes_join_what_the_registry_declares(home):
    rank = tracker(home, "add", "--id", "me-gold-best", "--who", "Me", "--kind", "rank",
                   "--claim", "Gold is 2026's best asset.", "--made-on", "2026-01-10",
                   "--start", "2025-12-31", "--series", "yahoo:GLD",
                   "--universe", "major-assets")
    assert rank.returncode == 0, rank.stderr
    both = tracker(home, "add", "--id", "me-gold-and-oil", "--who", "Me", "--kind", "all_of",
                   "--claim", "Gold is best, and oil falls to $45 first.",
                   "--of", "me-gold-best", "--of", "chamath-oil-45-before-65")
    assert both.returncode == 0, both.stderr
    unknown = tracker(home, "add", "--id", "me-nothing", "--who", "Me", "--kind", "any_of",
                      "--claim", "Something.", "--of", "no-such-prediction")
    assert unknown.returncode == 2
    assert "--of: unknown prediction 'no-such-prediction'" in unknown.stderr
    registry = load_registry(load_settings(home / "config.toml"))
    assert registry.get("me-gold-best").universe_name == "major-assets"
    assert registry.get("me-gold-and-oil").of == ["me-gold-best", "chamath-oil-45-before-65"]


def test_in_a_terminal_the_missing_fields_are_asked_for(home, monkeypatch):
    monkeypatch.setattr(add_command, "stdin_is_terminal", lambda: True)
    answers = "me-fed\nMe\nThe Fed ends 2026 at 3% or lower.\nlevel\nfred:DFEDTARU\nsoon\n" \
              "2026-12-31\n3\nbelow\n"
    result = CliRunner().invoke(cli, ["--config", str(home / "config.toml"), "add", "--json"],
                                input=answers)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)  # the questions went to stderr
    assert found["fields"]["on"] == "2026-12-31"  # asked again after "soon"
    assert "Error: 'soon' does not match the format" in result.stderr
    level = load_registry(load_settings(home / "config.toml")).get("me-fed")
    assert (level.kind, level.series, level.target, level.direction, level.on) == (
        "level", "fred:DFEDTARU", 3.0, "below", date(2026, 12, 31))


def test_a_real_terminal_is_asked(home):
    """`tracker add` with its stdin on a pseudo-terminal asks instead of failing."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--config", str(home / "config.toml"), "add",
         *GOLD[:6]], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=home)
    os.close(follower)
    os.write(leader, b"Gold above $5,000.\nyahoo:GC=F\n5000\nabove\n")
    _, err = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0, err
    assert err == b"claim: series: target: direction (above, below, over, under): "
    assert 'claim = "Gold above $5,000."' in (home / "predictions.toml").read_text()


def test_every_field_of_the_schema_has_its_flag():
    schema = {name for model in KINDS.values() for name in model.model_fields} - {
        "universe_name"}  # filled in from a named universe, never given
    assert set(add_command.FIELDS) == schema
    assert add_command.KINDS == tuple(KINDS)


def test_concurrent_adds_to_one_file_each_land(tmp_path):
    path = tmp_path / "mine.toml"
    settings = settings_from_dict({"registry": {"bundled": False, "files": [str(path)]}})
    errors = []

    def one(i: int) -> None:
        fields = {"id": f"me-{i}", "who": "Me", "made_on": date(2026, 1, 1),
                  "claim": f"Claim {i}.", "kind": "manual"}
        try:
            add_prediction(settings, fields, path)
        except RegistryError as exc:  # a missing file created by another thread meanwhile
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(p.id for p in load_registry(settings)) == sorted(f"me-{i}" for i in range(8))


def test_a_linked_file_stays_a_link_and_keeps_its_mode(tmp_path):
    real = tmp_path / "real.toml"
    real.write_text("# kept\n")
    real.chmod(0o600)
    link = tmp_path / "mine.toml"
    link.symlink_to(real)
    settings = settings_from_dict({"registry": {"bundled": False, "files": [str(link)]}})
    add_prediction(settings, {"id": "me-a", "who": "Me", "made_on": date(2026, 1, 1),
                              "claim": "A.", "kind": "manual"}, link)
    assert link.is_symlink()
    assert real.read_text().startswith("# kept\n\n[[prediction]]\n")
    assert real.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml", "real.toml"]
