"""``python -m tracker.cli``: the full command line, without the quick path."""

from tracker.cli import main

main()
