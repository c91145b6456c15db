"""What the listing commands share. A listing command returns what it found; ``listing``
gives it ``--json`` (that, as JSON on stdout and nothing else there) and otherwise hands
it to a function that prints it for people, often as a table, drawn by the same plain
writer the lean path uses (tracker/views/table.py)."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.app import App, pass_app
from tracker.cli.errors import handle_errors

if TYPE_CHECKING:
    from collections.abc import Callable


def listing(text: Callable[..., None], as_data: Callable[[Any], Any] | None = None,
            exit_code: Callable[[Any], int] | None = None):
    """Make ``command(app, **arguments) -> found`` a listing command. ``--json`` prints
    ``found`` (through ``as_data`` when it is not plain data already); otherwise
    ``text(found, app=app, **arguments)`` prints it. Then it exits with
    ``exit_code(found)``, when given. Library errors are mapped (tracker/cli/errors.py)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., None]:
        @json_option
        @pass_app
        @handle_errors
        @functools.wraps(command)
        def listing_command(app: App, as_json: bool, **arguments: Any) -> None:
            found = command(app, **arguments)
            if as_json:
                emit_json(as_data(found) if as_data else found)
            else:
                text(found, app=app, **arguments)
            if exit_code is not None and (code := exit_code(found)):
                sys.exit(code)

        return listing_command

    return decorate


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Machine output (JSON) on stdout.")(
        command
    )


def emit_json(data: Any) -> None:
    from tracker.jsonout import dumps

    click.echo(dumps(data))


def print_text(text: str) -> None:
    """Text that ends in a newline, as the lean path (tracker/quick/) prints it."""
    click.echo(text, nl=False, color=True)  # colours were decided by ``terminal``


def terminal() -> dict[str, Any]:
    """How a table fits stdout: its width, and whether it takes colours."""
    from tracker.views.table import terminal_width, wants_colour

    return {"width": terminal_width(), "colour": wants_colour()}
