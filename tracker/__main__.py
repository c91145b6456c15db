"""``python -m tracker``: the ``tracker`` command, through the same entry point (the lean
read path first, then the full command line)."""

from tracker.entry import main

if __name__ == "__main__":
    main()
