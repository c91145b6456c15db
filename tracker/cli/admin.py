"""The commands that set tracker up: `check` the config, the registry and its links;
`migrate` the database's schema."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, EXIT_USAGE, handle_errors
from tracker.cli.output import emit_json, json_option

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.registry import Registry


@cli.command()
@click.option("--online", is_flag=True,
              help="Also ask each source that every linked series exists and has recent data.")
@json_option
@pass_app
@handle_errors
def check(app: App, online: bool, as_json: bool) -> None:
    """Validate the config and the registry, and say what is wrong."""
    from tracker.quick import remember
    from tracker.registry.loader import check_registry
    from tracker.textsafe import visible

    settings = app.settings
    registry, problems = check_registry(settings)
    files = files_in_use(settings)
    if problems:  # they quote registry text
        answer = (files, "".join(f"{visible(problem)}\n" for problem in problems), EXIT_USAGE)
    else:
        answer = ((f"ok: {len(registry)} predictions reading {len(registry.series_ids())} "
                   f"series\n{files}"), "", 0)
    remember("check", settings, registry, answer=answer)  # so the next `check` is quick
    if as_json:
        _check_json(app, registry, problems, online)
        return
    stdout, stderr, code = answer
    click.echo(stderr, nl=False, err=True)
    click.echo(stdout, nl=False)
    if code:
        sys.exit(code)
    if online:
        _check_links(app, registry)


def _check_json(app: App, registry: Registry, problems: list[str], online: bool) -> None:
    """What ``check`` found, as JSON; ``links`` only with ``--online`` and a valid
    registry. The exit status is the text's."""
    from tracker.service.links import check_links

    found = {"ok": not problems, "config": app.settings.path, "predictions": len(registry),
             "series": len(registry.series_ids()), "problems": problems}
    if online and not problems:
        found["links"] = [{"where": link.where, "what": link.what}
                          for link in check_links(app.settings, registry)]
    emit_json(found)
    if problems:
        sys.exit(EXIT_USAGE)
    if found.get("links"):
        sys.exit(EXIT_FAILED)


def files_in_use(settings: Settings) -> str:
    """Which config, registry files and database this configuration reads, a line each;
    a line too long for 80 columns gives each path a line of its own."""
    from db.engine import redacted_url, sqlite_file
    from tracker.config import DEFAULT
    from tracker.configfile import config_candidates
    from tracker.registry.loader import BUNDLED, registry_files

    if settings.path is not None:
        config = _entry("config:", [str(settings.path.absolute())])
    else:
        looked = [str(path.absolute()) for path in config_candidates()]
        config = _entry("config:", looked, head="none, the defaults apply; looked for:")
    # The user's own file is listed before it exists: `tracker add` writes it.
    files = [str(path.absolute()) + ("" if os.path.lexists(path) else " (none yet)")
             for path in registry_files(settings)]
    if settings.registry.bundled:
        files[0] = f"bundled {BUNDLED}"
    database = settings.database
    where = sqlite_file(database.url) or redacted_url(database.url)
    origin = "the default" if database.origin == DEFAULT else database.origin
    return (config + _entry("registry:", files or ["no files"])
            + _entry("database:", [f"{where} ({origin})"]))


CHECK_WIDTH = 80
INDENT = " " * 10  # under the values, past the longest label


def _entry(label: str, items: list[str], head: str | None = None) -> str:
    """The items after the label, comma-separated on one line when there is no head and
    it fits; else the head (or the first item) beside the label and each item on a line
    of its own."""
    from tracker.textsafe import visible

    items = [visible(item) for item in items]
    line = f"{label:<9} {', '.join(items)}\n"
    if head is None and len(line) <= CHECK_WIDTH + 1:
        return line
    if head is None:
        head, items = items[0] + ("," if len(items) > 1 else ""), items[1:]
        items = [item + "," for item in items[:-1]] + items[-1:]
    return f"{label:<9} {head}\n" + "".join(f"{INDENT}{item}\n" for item in items)


def _check_links(app: App, registry: Registry) -> None:
    """A line per problem with the registry's links; exit 1 when there is any."""
    from tracker.service.links import check_links
    from tracker.textsafe import visible

    problems = check_links(app.settings, registry)
    for problem in problems:
        click.echo(visible(problem))  # plain text: symbols and API messages are not markup
    if problems:
        click.echo(f"online: {len(problems)} problem{'s' if len(problems) > 1 else ''} with links")
        sys.exit(EXIT_FAILED)
    click.echo(f"online: all {len(registry.series_ids())} series exist and have recent data")


@cli.command()
@pass_app
@handle_errors
def migrate(app: App) -> None:
    """Upgrade the database's schema to this version's (creating it if need be)."""
    from db.engine import upgrade_database

    before, after = upgrade_database(app.database_url)
    if before == after:
        click.echo(f"the schema is up to date (revision {after})")
    else:
        click.echo(f"migrated the schema from revision {before or 'none (new database)'} "
                   f"to {after}")
