"""The ``tracker`` group, and what every command shares: the settings, the registry and
the database, each loaded on first use so a command pays only for what it reads."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

import click

from tracker import __version__

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tracker.config import Settings
    from tracker.registry import Registry


class App:
    """What the commands share: settings, registry and database, loaded on first use."""

    def __init__(self, config_path: str | None, demo: bool = False):
        self.config_path = config_path
        self.demo = demo  # read the demo database (tracker/demo) instead of the user's

    @functools.cached_property
    def settings(self) -> Settings:
        from tracker.config import load_settings

        return load_settings(self.config_path)

    @functools.cached_property
    def registry(self) -> Registry:
        from tracker.registry import load_registry

        return load_registry(self.settings)

    @functools.cached_property
    def database_url(self) -> str:
        """The database's URL; with the default one missing, a database where earlier
        versions kept theirs is a clear error, never replaced by a new empty one."""
        from tracker.config import DEFAULT, ConfigError
        from tracker.configfile import default_database_path, earlier_default_database

        database = self.settings.database
        if database.origin == DEFAULT and not default_database_path().exists():
            earlier = earlier_default_database()
            if earlier is not None:
                raise ConfigError(
                    f"no database at {default_database_path()}, but one at {earlier}, where "
                    "earlier versions of tracker kept it: move it there (with tracker "
                    f'stopped), or set [database] url = "sqlite:///{earlier}" in the config')
        return database.url

    @functools.cached_property
    def engine(self) -> Engine:
        from db.engine import READ, open_database

        command = click.get_current_context().command.name
        if self.demo:
            return self._demo_engine(command)
        return open_database(self.database_url, DATABASE_ACCESS.get(command, READ))

    def _demo_engine(self, command: str) -> Engine:
        """The demo database, read only, after the banner that says so."""
        from db.engine import READ, open_database
        from tracker.cli.demo import DEMO_COMMANDS
        from tracker.demo import banner, demo_database

        if command not in DEMO_COMMANDS:
            raise click.UsageError(f"--demo opens only {', '.join(DEMO_COMMANDS)}, "
                                   f"not {command}")
        database = demo_database()
        if not database.is_file():
            raise click.UsageError(f"no demo database at {database}: run `tracker demo` first")
        import sys
        import textwrap

        from tracker.views.table import terminal_width

        width = terminal_width(sys.stderr)
        click.echo("\n".join(textwrap.wrap(banner(database), width, break_long_words=False,
                                           break_on_hyphens=False)), err=True)
        return open_database(f"sqlite:///{database}", READ)


# Who may do what to the schema (db/engine.py): the daemon upgrades it; the other writers
# create a new database but refuse to upgrade one; every other command only reads.
DATABASE_ACCESS = {"run": "upgrade", "poll": "write", "backfill": "write", "resolve": "write"}


class _Group(click.Group):
    """The ``tracker`` group; its help ends with where the files are, for this user."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        formatter.write(files_help())  # as it is: a path wrapped at a hyphen would mislead


def files_help() -> str:
    from tracker.configfile import config_candidates, default_database_path

    local, user = config_candidates()
    return (f"Config: --config PATH, else $TRACKER_CONFIG, else ./{local} if present,\n"
            f"  else {user}\n"
            f"Database: {default_database_path()}\n"
            "  unless $TRACKER_DATABASE_URL or the config's [database] url names another.\n"
            "`tracker check` shows the files in use.\n")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $TRACKER_CONFIG, else ./config.toml, else the user's).",
)
@click.option("--demo", is_flag=True,
              help="Read the demo database (built by `tracker demo`), not your own.")
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, demo: bool) -> None:
    """Track public predictions against market data."""
    # Commands print what matters themselves; without a handler, library warnings would
    # reach stderr a second time through logging's last resort. `run` sets up real logging.
    logging.getLogger("tracker").addHandler(logging.NullHandler())
    ctx.obj = App(config_path, demo)


pass_app = click.make_pass_decorator(App)

