"""Shell completion, as docs/completion.md sets it up: click's script for each shell, and
prediction ids completed for `show` and `resolve` from the registry, never the database."""

import os
import subprocess
import sys

from tests.forked_cli import run_tracker
from tests.sources_fixtures import replay_config


def complete(config, words: str, shell: str = "bash") -> subprocess.CompletedProcess:
    """What the shell's completion function gets for the command line ``words``, with
    $TRACKER_CONFIG set to ``config`` (unless None)."""
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(words.split(" ")) - 1),
               _TRACKER_COMPLETE=f"{shell}_complete")
    env.pop("TRACKER_CONFIG", None)
    if config is not None:
        env["TRACKER_CONFIG"] = str(config)
    return run_tracker([], env=env, main="tracker.entry")


def test_bash_gets_its_script(tmp_path):
    done = run_tracker([], env=dict(os.environ, _TRACKER_COMPLETE="bash_source"),
                       main="tracker.entry")
    assert done.returncode == 0
    assert "complete -o nosort -F _tracker_completion tracker" in done.stdout


def test_show_and_resolve_complete_the_registrys_ids_without_a_database(tmp_path):
    config = replay_config(tmp_path, "http://127.0.0.1:9", symbols=["BATS.L", "AMZN"])
    for command in ("show", "resolve"):
        done = complete(config, f"tracker {command} watch-")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == ["plain,watch-0", "plain,watch-1"]
    assert complete(config, "tracker show watch-1").stdout == "plain,watch-1\n"
    assert complete(config, "tracker show nothing-like-it").stdout.split() == []
    assert complete(config, "tracker resolve watch-0 ").stdout.splitlines() == [
        "plain,right", "plain,wrong", "plain,void"]
    # The config named on the command line being completed is the one read.
    assert complete(None, f"tracker --config {config} show watch-1").stdout == "plain,watch-1\n"
    assert not (tmp_path / "tracker.db").exists()


def test_zsh_shows_each_ids_claim(tmp_path):
    config = replay_config(tmp_path, "http://127.0.0.1:9", symbols=["BATS.L"])
    assert complete(config, "tracker show w", shell="zsh").stdout.splitlines() == [
        "plain", "watch-0", "watch yahoo:BATS.L"]


def test_a_broken_config_completes_nothing_and_says_nothing(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[database\n")
    done = complete(config, "tracker show w")
    assert (done.returncode, done.stdout.split(), done.stderr) == (0, [], "")


def test_completing_an_id_reads_no_database_code(tmp_path):
    """A real interpreter, as a shell starts one on each tab: the database layer is never
    imported, so a completion is quick and cannot create a database."""
    config = replay_config(tmp_path, "http://127.0.0.1:9", symbols=["BATS.L"])
    env = dict(os.environ, TRACKER_CONFIG=str(config), COMP_WORDS="tracker show w",
               COMP_CWORD="2", _TRACKER_COMPLETE="bash_complete")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "tracker.entry"],
                          env=env, capture_output=True, text=True, check=False)
    assert done.stdout == "plain,watch-0\n", done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not imported & {"sqlalchemy", "sqlmodel", "db", "db.engine", "alembic"}
