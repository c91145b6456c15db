"""`tracker run`: the daemon in the foreground, until SIGTERM or SIGINT."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import handle_errors

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.registry import Registry


@cli.command()
@click.option("--log-json", is_flag=True, help="Log JSON lines (time, level, logger, message).")
@pass_app
@handle_errors
def run(app: App, log_json: bool) -> None:
    """Run the daemon: poll on schedule until SIGTERM or SIGINT; SIGHUP reloads the config."""
    from jobs.scheduler import run_daemon
    from tracker.logs import configure_logging
    from tracker.notify.targets import check
    from tracker.registry import load_registry

    configure_logging(json_lines=log_json)
    check(app.settings.notify.urls)  # Apprise missing, a variable unset: refused now

    def reload() -> tuple[Settings, Registry]:
        from tracker.config import load_settings

        settings = load_settings(app.config_path)
        check(settings.notify.urls)
        return settings, load_registry(settings)

    run_daemon(app.settings, app.registry, app.engine, reload=reload)
