"""The schema revision the code expects, found without importing SQLAlchemy or Alembic
(the quick `tracker status --json` path checks it too)."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")


def known_revisions() -> list[str]:
    """Every revision id this code has a migration for, oldest first. Revisions are
    numbered like their files (0004_....py is revision "0004"), so reading the folder is
    enough: importing Alembic to ask would cost every CLI command a tenth of a second."""
    return sorted(f.name.split("_", 1)[0]
                  for f in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def head_revision() -> str:
    """The newest migration's revision id."""
    return known_revisions()[-1]
