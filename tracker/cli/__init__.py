"""The command line: thin commands over library functions.

Exit codes (DESIGN section 6): 0 success; 1 the work failed (for ``poll``: at least one
source failed, the others were still stored); 2 bad usage or bad config, with one line
on stderr and no traceback; 130 interrupted. Every listing command takes ``--json``:
machine output on stdout and nothing else there.

The package: ``app`` (the ``tracker`` group and what its commands share), ``errors``
(every error mapped to its line and exit code), ``output`` (what listing commands
share), ``progress`` (how `backfill` reports as it goes), and the commands by subject:
``admin`` (check, migrate), ``data`` (poll, backfill, series, health), ``predictions``
(status, show, resolve, scoreboard), ``markets`` (markets search), ``digest``,
``daemon`` (run) and ``metrics``. Importing it imports click and nothing heavy: a command
imports what it needs when it runs, so `--help` and the quick path's fallback start fast
(docs/performance.md).
"""

from __future__ import annotations

# Importing the command modules adds their commands to the group.
from tracker.cli import (  # noqa: F401
    add,
    admin,
    calibration,
    daemon,
    data,
    demo,
    digest,
    markets,
    metrics,
    notify,
    predictions,
    site,
    web,
)
from tracker.cli.app import App, cli
from tracker.cli.errors import run_command_line

__all__ = ["App", "cli", "main"]


def main() -> None:
    """The ``tracker`` command (tracker/entry.py answers some --json listings first)."""
    run_command_line(cli)
