"""The lean path: the read commands (``status``, ``series``, ``health``, ``scoreboard``,
``check``, ``show``), text and ``--json``, and the digest's text and preview, answered without the heavy stack, for people
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

# command -> the cache it answers from
COMMANDS = {"status": "status", "series": "series", "health": "health",
            "scoreboard": "scoreboard", "check": "check", "show": "show", "digest": "digest"}


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
    options: tuple[tuple[str, str | None], ...] = ()  # status's (name, value), health's --quiet
    preview: str | None = None  # digest --preview FILE
    show_text: bool = False  # digest's text (--text, or no option)


# status's options: those that take a value, and flags
STATUS_VALUES = ("--who", "--status", "--kind")
STATUS_FLAGS = ("--open", "--wide")


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
    """The parts of ``[--config PATH] COMMAND [ID] [--json]`` for a lean command, and of
    ``status [OPTIONS]``; None for any other command line (options the lean path does not
    know go to the full CLI)."""
    explicit = None
    if argv[:1] == ["--config"] and len(argv) >= 2:
        explicit, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--config="):
        explicit, argv = argv[0].split("=", 1)[1], argv[1:]
    if not argv or argv[0] not in COMMANDS or explicit == "":
        return None
    command, rest = argv[0], argv[1:]
    if command == "digest":
        return digest_line(explicit, rest)
    if command == "status":
        return _status_line(explicit, rest)
    as_json = rest[-1:] == ["--json"] and command != "check"
    if as_json:
        rest = rest[:-1]
    argument, options = None, ()
    if command == "health" and rest in (["--quiet"], ["-q"]):
        options, rest = (("--quiet", None),), []
    if command == "show":
        if len(rest) != 1 or rest[0].startswith("-"):
            return None
        argument, rest = rest[0], []
    if rest:
        return None
    return CommandLine(command, explicit, as_json, argument, options)


def digest_line(explicit: str | None, options: list[str]) -> CommandLine | None:
    """``digest [--preview FILE] [--text]``: what the lean path answers of the digest (a
    date, sending or --json go to the full CLI)."""
    preview, show_text = None, False
    while options:
        option, options = options[0], options[1:]
        if option == "--text" and not show_text:
            show_text = True
        elif option == "--preview" and options and preview is None:
            preview, options = options[0], options[1:]
        elif option.startswith("--preview=") and preview is None:
            preview = option.split("=", 1)[1]
        else:
            return None
    if preview is not None and (not preview or preview.startswith("-")):
        return None
    return CommandLine("digest", explicit, False, None, preview=preview,
                       show_text=show_text or preview is None)


def _status_line(config: str | None, rest: list[str]) -> CommandLine | None:
    """``status``'s options, in any order: ``--who NAME`` (or ``--who=NAME``), ``--status``
    and ``--kind`` (repeatable), ``--open``, ``--wide``, ``--json``. None for anything
    else, or anything click might read otherwise (a value that looks like an option, a
    second --who): the full CLI answers those."""
    options: list[tuple[str, str | None]] = []
    as_json, i = False, 0
    while i < len(rest):
        token = rest[i]
        name, equals, value = token.partition("=")
        if token == "--json":
            as_json = True
        elif token in STATUS_FLAGS:
            options.append((token, None))
        elif name in STATUS_VALUES and equals:
            options.append((name, value))
        elif token in STATUS_VALUES and i + 1 < len(rest):
            i += 1
            options.append((token, rest[i]))
        else:
            return None
        i += 1
    values = [value for _, value in options if value is not None]
    if any(value.startswith("-") or not value for value in values):
        return None
    if [name for name, _ in options].count("--who") > 1:
        return None
    return CommandLine("status", config, as_json, None, tuple(options))


def remember(command: str, settings: Settings, registry: Registry | None = None,
             **found) -> None:
    """After a full run of ``command``: cache what its lean answer needs. Best effort."""
    from tracker.quick.keep import keep

    keep(command, settings, registry, **found)

