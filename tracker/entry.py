"""The ``tracker`` command. The read commands (status, series, health, scoreboard, check,
show, and the digest's text and preview) are answered by the lean path when they can be (tracker/quick/: standard library
only); everything else, and those too whenever the lean path declines, runs the full CLI
(tracker/cli/), which prints the same."""

from __future__ import annotations

import os
import sys

LEAN = {"status", "series", "health", "scoreboard", "check", "show", "digest"}


def main() -> None:
    found = None
    if LEAN.intersection(sys.argv[1:4]):  # else not even the lean path's imports
        from tracker.quick import lean_answer

        found = lean_answer(sys.argv[1:])
    if found is None:
        from tracker.cli import main as full_cli

        full_cli()
        return
    try:
        sys.stderr.write(found.stderr)
        sys.stdout.write(found.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # `tracker status | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        sys.exit(0)
    sys.exit(found.code)


if __name__ == "__main__":
    main()
