"""The ``tracker`` command. ``tracker status --json`` and ``tracker series --json`` are
answered by the quick path when they can be (tracker/quick.py: standard library only);
everything else, and those too whenever the quick path declines, runs the full CLI
(tracker/cli/)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    text = None
    if sys.argv[-1:] == ["--json"]:  # else not even the quick path's imports
        from tracker.quick import quick_answer

        text = quick_answer(sys.argv[1:])
    if text is None:
        from tracker.cli import main as full_cli

        full_cli()
        return
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `tracker status --json | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        sys.exit(0)


if __name__ == "__main__":
    main()
