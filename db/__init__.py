"""Storage: SQLModel tables, engine creation and migrations, and the queries the rest uses.

This layer knows nothing about HTTP or what a prediction means. Nothing is imported here:
the lean path (tracker/quick/) imports db.reads and db.revision, which use only the
standard library, and must not pay for SQLAlchemy on the way.
"""
