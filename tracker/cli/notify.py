"""`tracker notify --test`: one message to every notification target, a line for each."""

from __future__ import annotations

import sys

import click

from tracker.cli.app import App, cli, pass_app
from tracker.cli.errors import EXIT_FAILED, EXIT_USAGE, fail, handle_errors


@cli.command()
@click.option("--test", "test", is_flag=True, help="Send one test message to every target.")
@pass_app
@handle_errors
def notify(app: App, test: bool) -> None:
    """Check the notification targets of [notify] urls."""
    from tracker.notify.targets import check
    from tracker.service.notify import send_test
    from tracker.textsafe import visible

    if not test:
        fail("say what to do: tracker notify --test", EXIT_USAGE)
    if not app.settings.notify.urls:
        fail("no notification targets: set [notify] urls in the config", EXIT_USAGE)
    check(app.settings.notify.urls)  # Apprise installed, every variable set
    failed = False
    for label, error in send_test(app.settings):
        click.echo(visible(f"{label}: {'ok' if error is None else error}"))
        failed = failed or error is not None
    if failed:
        sys.exit(EXIT_FAILED)
