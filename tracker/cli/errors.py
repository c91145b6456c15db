"""Every way a command ends badly, in one place: one line on stderr, no traceback, and
the exit code the command line documents (tracker/cli/__init__.py). ``handle_errors``
maps the library's errors, ``run_command_line`` click's usage errors and interruptions,
and a command's own refusal (an unknown id, a search or a send that failed) calls
``fail`` with its sentence. Anything else is a bug and keeps its traceback."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int) -> NoReturn:
    from tracker.textsafe import visible

    click.echo(f"tracker: {visible(message)}", err=True)  # may quote registry text
    sys.exit(code)


def handle_errors(command: Callable) -> Callable:
    """Library errors become one line on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            ending = _library_error(exc, args)
            if ending is None:
                raise
            message, code = ending
            if message is None:
                sys.exit(code)
            fail(message, code)

    return wrapper


def _library_error(exc: Exception, args: tuple) -> tuple[str | None, int] | None:
    """The line (None: the daemon's log said it already) and exit code for a library
    error; None for any other exception. Imported here, when something failed, so no
    command pays for the imports of errors it does not meet."""
    from sqlalchemy.exc import DBAPIError

    from db.engine import DatabaseError, SchemaError, storage_error
    from jobs.leader import AlreadyRunning
    from tracker.config import ConfigError
    from tracker.registry import RegistryError

    if isinstance(exc, ConfigError | RegistryError | AlreadyRunning):
        return str(exc), EXIT_USAGE
    if isinstance(exc, DBAPIError):  # the database failed mid-command: full, read-only, gone
        return str(storage_error(exc, _database_url(args))), EXIT_FAILED
    if isinstance(exc, DatabaseError):
        code = EXIT_USAGE if isinstance(exc, SchemaError) else EXIT_FAILED
        return (None if exc.logged else str(exc)), code
    if isinstance(exc, OSError):  # a file the command writes: a missing folder, a full disk
        return (f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)), EXIT_FAILED
    return None


def _database_url(args: tuple) -> str:
    from tracker.cli.app import App

    app = next((arg for arg in args if isinstance(arg, App)), None)
    return app.settings.database.url if app is not None else "(the database)"


def run_command_line(group: click.Group) -> NoReturn:
    """Run ``group``; a bad argument is one line on stderr and exit 2, like a bad config."""
    try:
        code = group.main(prog_name="tracker", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        fail(f"{exc.format_message()}{hint}", EXIT_USAGE)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        fail("interrupted", EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
