"""Configuration: find config.toml, validate it, and give every key a working default.

Lookup order: ``--config PATH``, then ``$TRACKER_CONFIG``, then ``./config.toml``, then the
user's config folder (tracker.configfile). ``$TRACKER_DATABASE_URL`` overrides
``[database] url``; without either, the database is ``tracker.db`` in the data folder. A
relative SQLite path in a config file is read from that file's folder, like its registry
files. Every problem becomes a ``ConfigError`` whose message is one line naming the file
and the key, so the CLI can print it and exit 2 without a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from tracker.configfile import (
    DATABASE_URL_ENV,
    DEFAULT_CONFIG_NAME,
    UnreadableFile,
    default_database_path,
    find_config,
    read_limited,
)
from tracker.redact import redact, scheme_and_host

_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line a user should read."""


def parse_duration(text: str) -> timedelta:
    """Parse "30s", "15m", "6h" or "1d" into a timedelta (zero is refused)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"bad duration {text!r}: use a positive number and s, m, h or d, like '15m'")
    try:
        return timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:  # beyond timedelta's 999,999,999 days
        raise ValueError(f"bad duration {text!r}: too long") from None


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or not _port_ok(value):
        raise ValueError(f"bad URL {redact(value)!r}: expected http:// or https:// and a host")
    return value.rstrip("/")


def _port_ok(url: str) -> bool:
    try:
        return urlsplit(url).port != 0  # raises on a port that is not a number up to 65535
    except ValueError:
        return False


_SQLITE = re.compile(r"^sqlite(\+pysqlite)?:///")
_POSTGRES = re.compile(r"^postgres(ql)?(\+psycopg)?://")


def _database_url_problem(value: str) -> str | None:
    """Why this database URL cannot be used, or None."""
    if _SQLITE.match(value):
        path = _SQLITE.sub("", value).partition("?")[0]
        if not path or ":memory:" in path or "mode=memory" in value:
            # Each connection would get its own empty database: nothing would ever show.
            return "an in-memory SQLite database keeps nothing: give a file, like sqlite:///tracker.db"
        return None
    if not _POSTGRES.match(value):
        return "expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    if not _port_ok(value):
        return "the port is not a number"
    return None


class _Section(BaseModel):
    # strict: a number where a string belongs is an error, not silently converted.
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


def _resolve_sqlite_path(url: str, folder: Path) -> str:
    """A SQLite URL whose relative file path is read from ``folder``; others unchanged."""
    match = _SQLITE.match(url)
    if not match:
        return url
    path, mark, query = url[match.end():].partition("?")
    if Path(path).is_absolute():
        return url
    return f"{match.group(0)}{folder / path}{mark}{query}"


# Where the database URL came from, as `tracker check` names it.
DEFAULT, FROM_ENV, FROM_CONFIG = "default", "$" + DATABASE_URL_ENV, "[database] url"


class DatabaseConfig(_Section):
    url: str = Field(default_factory=default_database_url)
    _origin: str = PrivateAttr(DEFAULT)

    @property
    def origin(self) -> str:
        """DEFAULT, FROM_ENV or FROM_CONFIG."""
        return self._origin

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        problem = _database_url_problem(value)
        if problem:
            raise ValueError(f"bad URL {redact(value)!r}: {problem}")
        return value


class RegistryConfig(_Section):
    bundled: bool = True
    files: list[str] = Field(default_factory=list)


class ScheduleConfig(_Section):
    markets_every: str = "5m"
    prices_every: str = "15m"
    macro_every: str = "6h"

    @field_validator("markets_every", "prices_every", "macro_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    def interval(self, group: str) -> timedelta:
        return parse_duration(getattr(self, f"{group}_every"))


class HttpConfig(_Section):
    timeout: str = "20s"
    # The whole request, retries and their waits included: a server dripping a byte at a
    # time passes every per-read timeout. Longer than the daemon's 30 s grace on SIGTERM,
    # which abandons a poll still running then.
    request_deadline: str = "60s"
    # Six, as a browser opens per host over HTTP/1.1: a poll's burst is no heavier than
    # one page of the site. Yahoo's 429s follow the volume of requests, not this.
    per_host_concurrency: int = Field(default=6, ge=1, le=64)
    retries: int = Field(default=3, ge=0, le=10)
    max_response_mb: int = Field(default=16, ge=1, le=1024)

    @field_validator("timeout", "request_deadline")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class _Url(_Section):
    @field_validator("*")
    @classmethod
    def _urls(cls, value: Any, info) -> Any:
        if info.field_name.endswith("_url"):
            return _check_http_url(value)
        return value


class YahooConfig(_Url):
    base_url: str = "https://query2.finance.yahoo.com"


class FredConfig(_Url):
    base_url: str = "https://fred.stlouisfed.org"
    api_url: str = "https://api.stlouisfed.org"
    api_key_env: str = "FRED_API_KEY"


class PolymarketConfig(_Url):
    gamma_url: str = "https://gamma-api.polymarket.com"
    clob_url: str = "https://clob.polymarket.com"


class KalshiConfig(_Url):
    base_url: str = "https://api.elections.kalshi.com/trade-api/v2"


# SEC asks every client of EDGAR to name itself and give a contact (a 403 otherwise):
# https://www.sec.gov/os/accessing-edgar-data. The default only says what to put here.
EDGAR_DEFAULT_USER_AGENT = "tracker prediction-tracker (set [sources.edgar] user_agent) admin@example.com"


class EdgarConfig(_Url):
    base_url: str = "https://data.sec.gov"
    user_agent: str = EDGAR_DEFAULT_USER_AGENT

    @field_validator("user_agent")
    @classmethod
    def _header_value(cls, value: str) -> str:
        value = value.strip()
        if not value or not value.isascii() or not value.isprintable():
            raise ValueError(
                "bad user agent: one line of plain ASCII text, your name and a contact email, "
                "like 'Jane Doe jane@example.com'"
            )
        return value


class CoingeckoConfig(_Url):
    """Accepted so that a config file that sets it still loads; no source reads it."""

    base_url: str = "https://api.coingecko.com/api/v3"


class SourcesConfig(_Section):
    yahoo: YahooConfig = Field(default_factory=YahooConfig)
    fred: FredConfig = Field(default_factory=FredConfig)
    polymarket: PolymarketConfig = Field(default_factory=PolymarketConfig)
    kalshi: KalshiConfig = Field(default_factory=KalshiConfig)
    edgar: EdgarConfig = Field(default_factory=EdgarConfig)
    coingecko: CoingeckoConfig = Field(default_factory=CoingeckoConfig)


class EmailConfig(_Section):
    enabled: bool = False  # the daemon sends the daily digest (`tracker digest` works either way)
    to: list[str] = Field(default_factory=lambda: ["me@example.com"])
    sender: str = Field(default="tracker@example.com", alias="from")
    send_at: str = "07:00"
    timezone: str = "America/Los_Angeles"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str = "TRACKER_SMTP_USER"
    password_env: str = "TRACKER_SMTP_PASSWORD"

    @field_validator("send_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"bad time {value!r}: expected HH:MM, like '07:00'")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


def _check_host(value: str) -> str:
    if not value.strip() or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(f"bad host {value!r}: expected an address or a name, like '127.0.0.1'")
    return value


Host = Annotated[str, AfterValidator(_check_host)]  # an address to listen on


class WebConfig(_Section):
    serve: bool = False  # `tracker run` serves the web view too, on host and port
    # Where `tracker serve` (and the daemon, with serve) listens: this machine only.
    host: Host = "127.0.0.1"
    port: int = Field(default=8150, ge=1, le=65535)
    # Where the pages are published (`tracker serve` behind a proxy, or `tracker site
    # build`'s folder): the digest and the feed link there. Empty: not published.
    public_url: str = ""

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value) if value else value


class MetricsConfig(_Section):
    # The daemon's Prometheus endpoint, /metrics: off (0) unless a port is given, and on
    # this machine only unless a host is given.
    port: int = Field(default=0, ge=0, le=65535)
    host: Host = "127.0.0.1"


NOTIFY_EVENTS = ("resolved", "status", "move", "source", "due")
# An environment variable named in a notification URL: {env:NAME}.
ENV_REFERENCE = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


class NotifyConfig(_Section):
    """Push messages through Apprise URLs (``ntfys://topic``, ``discord://id/token``,
    ``json://host/path``). A secret is named, never written: ``{env:NAME}`` in a URL is
    replaced by that environment variable's value when a message is sent."""

    urls: list[str] = Field(default_factory=list)
    # Percentage points a claim's probability must move, since the last message about it.
    move_points: float = Field(default=10, gt=0, le=100)
    events: list[str] = Field(default_factory=lambda: list(NOTIFY_EVENTS))
    # Polls of a source failing in a row before "source failing" is sent.
    source_failing_after: int = Field(default=3, ge=1, le=1000)
    # A message a target has not accepted after this many tries, or this long after it
    # was detected, is given up for that target (and `tracker health` says so).
    max_attempts: int = Field(default=10, ge=1, le=100)
    give_up_after: str = "1d"

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S", url):
                raise ValueError(f"bad notification URL {scheme_and_host(url)!r}: expected an Apprise "
                                 "URL like 'ntfys://my-topic' or 'discord://id/token'")
            leftover = ENV_REFERENCE.sub("", url)
            if "{env:" in leftover:
                raise ValueError(f"bad notification URL {scheme_and_host(url)!r}: write an environment "
                                 "variable as {env:NAME}, letters, digits and _")
        return value

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in NOTIFY_EVENTS:
                raise ValueError(f"unknown event {name!r} (known: {', '.join(NOTIFY_EVENTS)})")
        return value

    @field_validator("give_up_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class Settings(_Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)


    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    # The user's own predictions; validated by the registry loader, which knows the kinds.
    prediction: list[dict[str, Any]] = Field(default_factory=list)

    # Where this configuration came from (None when built from defaults only).
    path: Path | None = Field(default=None, exclude=True)


def _describe(error: dict[str, Any]) -> str:
    # A value echoed back may be a URL with a password in it.
    return redact(_explain(error))


def _explain(error: dict[str, Any]) -> str:
    # A quoted TOML key may hold a newline: repr keeps the message one line.
    parts = [str(part) if str(part).isprintable() else repr(part) for part in error["loc"]]
    key = ".".join(parts) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "value_error":
        return f"{key}: {error['ctx']['error']}"
    if kind.endswith("_type") or kind == "model_type":
        got = type(error["input"]).__name__
        wanted = kind.removesuffix("_type").replace("model", "table").replace("dict", "table")
        return f"{key}: expected {wanted}, got {got} {error['input']!r}"
    return f"{key}: {error['msg']}"


def settings_from_dict(data: dict[str, Any], source: str = DEFAULT_CONFIG_NAME,
                       folder: Path | None = None) -> Settings:
    """Validated settings; ``folder``: the config file's, where a relative SQLite path is
    read from (the working folder without one)."""
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc.errors()[0])}") from None
    db_url = os.environ.get(DATABASE_URL_ENV)
    if db_url:
        try:
            settings.database = DatabaseConfig(url=db_url)
        except ValidationError as exc:
            raise ConfigError(
                f"$TRACKER_DATABASE_URL: {_describe(exc.errors()[0]).split(': ', 1)[1]}"
            ) from None
        settings.database._origin = FROM_ENV
    elif "url" in settings.database.model_fields_set:
        if folder is not None:
            settings.database.url = _resolve_sqlite_path(settings.database.url, folder)
        settings.database._origin = FROM_CONFIG
    return settings


def load_settings(explicit: str | os.PathLike | None = None) -> Settings:
    path, _required = find_config(explicit)
    if path is None:
        return settings_from_dict({}, source="(defaults)")
    try:
        raw = read_limited(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except UnreadableFile as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    settings = settings_from_dict(data, source=str(path), folder=path.parent.absolute())
    settings.path = path
    return settings
