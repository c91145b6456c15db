"""What a full run leaves for the lean path (tracker/quick/): for each command, the few
things it needs from the config and the registry, as plain data. Runs inside the full
CLI, after its validation, so it may import what the full CLI imports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.quick import COMMANDS, cache

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.registry import Registry


def keep(command: str, settings: Settings, registry: Registry | None, **found: Any) -> None:
    """Cache what a lean ``command`` needs; nothing when it reads the database and that is
    not a SQLite file (the lean path reads only those), or a file cannot be read."""
    from tracker.registry.loader import registry_files

    database = sqlite_file(settings.database.url)
    if database is None and command != "check":
        return
    try:
        files = registry_files(settings) if registry is not None else []
    except (OSError, ValueError):
        return
    content = CONTENT[command](settings, registry, **found)
    cache.store(COMMANDS[command], settings.path, files, content, database)


def sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    from db.engine import normalise_url

    parsed = make_url(normalise_url(url))
    if (parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:")
            or parsed.query):
        return None
    return Path(parsed.database).resolve()


def _status(settings: Settings, registry: Registry) -> dict:
    """The registry's fields a status row shows, in registry order."""
    from tracker.views.status import summaries

    return {"predictions": summaries(registry)}


def _series(settings: Settings, registry: None) -> dict:
    """Each source group's poll interval (for staleness), and the registry's names of
    series (the registry's package imports pydantic): `series` and `health`."""
    from tracker.registry.labels import LABELS

    return {"intervals": _intervals(settings), "labels": LABELS}


def _health(settings: Settings, registry: Registry) -> dict:
    """What `series` needs; the sources the registry reads (whose polls must be recent);
    the database's path as the daemon names its lock file (not resolved: through a
    symbolic link, the lock is beside the link)."""
    from sqlalchemy.engine import make_url

    from tracker.service.poll import used_sources

    database = make_url(settings.database.url).database
    return _series(settings, None) | {"used_sources": sorted(used_sources(registry)),
                                      "lock_of": str(Path(database).absolute())}


def _intervals(settings: Settings) -> dict[str, float]:
    from tracker.sources import SOURCES, group_of

    return {group: settings.schedule.interval(group).total_seconds()
            for group in {group_of(source) for source in SOURCES}}


def _scoreboard(settings: Settings, registry: Registry) -> dict:
    """Each prediction's id, person, whether it is scored, and the key its made_on price
    is kept under (tracker/service/made_on.py), in registry order."""
    from tracker.service.made_on import definition_keys

    keys = definition_keys(registry)
    return {"predictions": [[p.id, p.who, p.scored, keys[p.id]] for p in registry]}


def _digest(settings: Settings, registry: Registry) -> dict:
    """What the digest reads of each prediction (``tracker.digest.content.Listed``) and the
    key its made_on price is kept under, in registry order; the registry's series and the
    poll intervals (for staleness); the time zone the digest's day is in; where the pages
    are published, to link each claim to."""
    from tracker.service.made_on import definition_keys

    keys = definition_keys(registry)
    return {"predictions": [[p.id, p.who, p.claim, p.scored, keys[p.id]] for p in registry],
            "series_ids": list(registry.series_ids()), "intervals": _intervals(settings),
            "timezone": settings.email.timezone, "public_url": settings.web.public_url}


def _check(settings: Settings, registry: Registry, answer: tuple[str, str, int]) -> dict:
    """The validation's own answer: it depends on nothing but the files and the key."""
    stdout, stderr, code = answer
    return {"stdout": stdout, "stderr": stderr, "code": code}


def _show(settings: Settings, registry: Registry, stored_names: dict[str, str | None]) -> dict:
    """What `show` needs of each prediction (``tracker.views.show.show_spec``), by id."""
    from tracker.views.show import show_spec

    return {"predictions": {p.id: show_spec(registry, p, stored_names) for p in registry}}


CONTENT = {"status": _status, "series": _series, "health": _health,
           "scoreboard": _scoreboard, "check": _check, "show": _show, "digest": _digest}
