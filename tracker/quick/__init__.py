"""The lean path: the read commands (``status``, ``series``, ``health``, ``scoreboard``,
``check``, ``show``), text and ``--json``, answered without the heavy stack, for people
and scripts that run them often.

The full CLI imports pydantic (config and registry validation), SQLAlchemy and click
before it prints a line, which costs many times the query (docs/performance.md, read
commands). What these commands need from the config and the registry is small, so each
full run leaves a cache of it (``remember``; cache.py says how it is kept safe and
current). The lean path (``lean_answer``) answers only when that cache is current and
the database is SQLite at the expected schema revision. It then runs the full CLI's
reads (db/reads.py: the same SQL and row builders) through the standard library's
sqlite3, and builds and prints the same rows through the same views (tracker/views). In
every other case it returns None and the full CLI runs, with its validation and its
error messages, and prints the same bytes. Only the standard library (and platformdirs,
which names the user's folders) is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.registry import Registry

# command -> the cache it answers from (series and health need the same: poll intervals)
COMMANDS = {"status": "status", "series": "series", "health": "series",
            "scoreboard": "scoreboard", "check": "check", "show": "show"}


class Answer(NamedTuple):
    """What the command prints, and its exit status."""

    stdout: str
    stderr: str = ""
    code: int = 0


class CommandLine(NamedTuple):
    command: str
    config: str | None  # --config's value
    as_json: bool
    argument: str | None  # show's ID


def lean_answer(argv: list[str]) -> Answer | None:
    """What ``tracker argv`` prints, or None when it is not answered here (any other
    command line, no current cache, not SQLite at head, any error)."""
    parsed = command_line(argv)
    if parsed is None:
        return None
    from tracker.quick.answers import answer

    return answer(parsed)


def quick_answer(argv: list[str]) -> str | None:
    """A ``--json`` answer's text without its final newline (for scripts and tests)."""
    found = lean_answer(argv)
    return None if found is None or found.code else found.stdout.removesuffix("\n")


def command_line(argv: list[str]) -> CommandLine | None:
    """The parts of ``[--config PATH] COMMAND [ID] [--json]`` for a lean command; None for
    any other command line (options the lean path does not know go to the full CLI)."""
    explicit = None
    if argv[:1] == ["--config"] and len(argv) >= 2:
        explicit, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--config="):
        explicit, argv = argv[0].split("=", 1)[1], argv[1:]
    if not argv or argv[0] not in COMMANDS or explicit == "":
        return None
    command, rest = argv[0], argv[1:]
    as_json = rest[-1:] == ["--json"] and command != "check"
    if as_json:
        rest = rest[:-1]
    argument = None
    if command == "show":
        if len(rest) != 1 or rest[0].startswith("-"):
            return None
        argument, rest = rest[0], []
    if rest:
        return None
    return CommandLine(command, explicit, as_json, argument)


def remember(command: str, settings: Settings, registry: Registry | None = None,
             **found) -> None:
    """After a full run of ``command``: cache what its lean answer needs. Best effort."""
    from tracker.quick.keep import keep

    keep(command, settings, registry, **found)

