"""`tracker demo`: build the demo database; `tracker --demo COMMAND` reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import handle_errors

# The commands `--demo` opens on the demo database: those that only read and print.
DEMO_COMMANDS = ("status", "show", "series", "health", "scoreboard", "calibration", "serve")


@cli.command()
@click.option("--rebuild", is_flag=True, help="Build it again even if it exists.")
@pass_app
@handle_errors
def demo(app: App, rebuild: bool) -> None:
    """Build a demo database: the bundled registry over a sample year, to explore with
    `tracker --demo status` and the other read commands. Your own database is untouched."""
    from tracker.config import settings_from_dict
    from tracker.demo import demo_database
    from tracker.demo.build import build_demo, read_info
    from tracker.registry import load_registry

    database = demo_database()
    if database.exists() and read_info(database) is not None and not rebuild:
        click.echo(f"the demo database is at {database} (--rebuild builds it again)")
    else:
        click.echo(f"building the demo database at {database} ...")
        settings = settings_from_dict({})  # the bundled registry, the default schedule
        build_demo(database, load_registry(settings), settings, datetime.now(UTC),
                   progress=lambda line: click.echo(f"  {line}"))
    click.echo("now try: " + "; ".join(
        f"tracker --demo {command}" for command in ("status", "scoreboard", "series")))
