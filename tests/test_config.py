"""Configuration: lookup order, defaults, and one clear line for every kind of mistake."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tracker.config import ConfigError, Settings, load_settings, parse_duration

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path, text, name="config.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_config_is_valid_and_matches_the_defaults():
    # The shipped file documents every key with its default: the two must never drift.
    shipped = load_settings(REPO / "config.toml")
    assert shipped.model_dump() == Settings().model_dump()


def test_empty_file_is_valid(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    # The database is in the user's data folder (the test's home), not the working folder.
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert settings.database.url == f"sqlite:///{data_home / 'tracker' / 'tracker.db'}"
    assert settings.schedule.interval("prices") == timedelta(minutes=15)
    assert settings.registry.bundled is True


def test_lookup_order(tmp_path, monkeypatch):
    user_folder = Path(os.environ["XDG_CONFIG_HOME"]) / "tracker"
    user_folder.mkdir(parents=True)
    write(user_folder, '[schedule]\nprices_every = "4m"\n')
    explicit = write(tmp_path, '[schedule]\nprices_every = "1m"\n', "explicit.toml")
    from_env = write(tmp_path, '[schedule]\nprices_every = "2m"\n', "env.toml")
    monkeypatch.chdir(tmp_path)
    assert load_settings().schedule.prices_every == "4m"
    assert load_settings().path == user_folder / "config.toml"
    write(tmp_path, '[schedule]\nprices_every = "3m"\n')
    assert load_settings().schedule.prices_every == "3m"
    monkeypatch.setenv("TRACKER_CONFIG", str(from_env))
    assert load_settings().schedule.prices_every == "2m"
    assert load_settings(explicit).schedule.prices_every == "1m"


def test_no_config_anywhere_means_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.path is None
    assert settings.schedule.prices_every == "15m"


def test_the_user_config_folder_follows_xdg(tmp_path, monkeypatch):
    from tracker.configfile import default_database_path, user_config_dir

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert user_config_dir() == tmp_path / "conf" / "tracker"
    assert default_database_path() == tmp_path / "share" / "tracker" / "tracker.db"


def test_under_systemd_the_database_is_in_the_state_directory(tmp_path, monkeypatch):
    # systemd sets $STATE_DIRECTORY for a unit with StateDirectory= (colon-separated).
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/tracker:/var/lib/other")
    settings = load_settings(write(tmp_path, ""))
    assert settings.database.url == "sqlite:////var/lib/tracker/tracker.db"


def test_a_relative_sqlite_path_is_read_from_the_config_files_folder(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write(folder, '[database]\nurl = "sqlite:///db/tracker.db?timeout=5"\n')
    monkeypatch.chdir(tmp_path)
    for config in (path, Path("etc/config.toml")):
        url = load_settings(config).database.url
        assert url == f"sqlite:///{folder / 'db' / 'tracker.db'}?timeout=5"
    absolute = write(folder, f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n')
    assert load_settings(absolute).database.url == f"sqlite:///{tmp_path / 'x.db'}"
    postgres = write(folder, '[database]\nurl = "postgresql+psycopg://u@h/db"\n')
    assert load_settings(postgres).database.url == "postgresql+psycopg://u@h/db"


def test_a_relative_path_in_the_environment_stays_the_working_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///here.db")
    path = write(tmp_path, '[database]\nurl = "sqlite:///there.db"\n')
    settings = load_settings(path)
    assert settings.database.url == "sqlite:///here.db"
    assert settings.database.origin == "$TRACKER_DATABASE_URL"


def test_database_url_from_environment_wins(tmp_path, monkeypatch):
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert load_settings(path).database.url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[database]\nurll = "x"\n', "database.urll: unknown key"),
        ('[nonsense]\n', "nonsense: unknown key"),
        ('[http]\nretries = "3"\n', "http.retries: expected int"),
        ('[registry]\nbundled = "yes"\n', "registry.bundled: expected bool"),
        ('[schedule]\nprices_every = "15 minutes"\n', "schedule.prices_every: bad duration"),
        ('[schedule]\nmacro_every = "0m"\n', "schedule.macro_every: bad duration"),
        ('[sources.yahoo]\nbase_url = "query2.finance.yahoo.com"\n', "sources.yahoo.base_url: bad URL"),
        ('[database]\nurl = "mysql://x"\n', "database.url: bad URL"),
        ('[email]\nsend_at = "7am"\n', "email.send_at: bad time"),
        ('[email]\ntimezone = "Mars/Olympus"\n', "email.timezone: unknown time zone"),
        ('[web]\nport = 0\n', "web.port: Input should be greater than or equal to 1"),
        ('[web]\nport = 65536\n', "web.port: Input should be less than or equal to 65535"),
        ('[web]\nport = "8150"\n', "web.port: expected int"),
        ('[web]\nhost = 127\n', "web.host: expected string"),
        ('[web]\nhost = ""\n', "web.host: bad host"),
        ('[web]\nserve = "yes"\n', "web.serve: expected bool"),
        ('[metrics]\nport = -1\n', "metrics.port: Input should be greater than or equal to 0"),
        ('[metrics]\nport = "9150"\n', "metrics.port: expected int"),
        ('[metrics]\nhost = " "\n', "metrics.host: bad host"),
        ('[metrics]\npath = "/m"\n', "metrics.path: unknown key"),
        ('[database\n', "invalid TOML"),
    ],
)
def test_each_mistake_names_the_file_and_the_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "nope.toml")


def test_bad_database_url_in_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "oracle://x")
    with pytest.raises(ConfigError, match=r"^\$TRACKER_DATABASE_URL: bad URL"):
        load_settings(write(tmp_path, ""))


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("15m", 900), ("6h", 21600), ("1d", 86400)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds
