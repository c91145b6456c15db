"""Storage: SQLModel tables, engine creation and migrations, and the queries the rest uses.

This layer knows nothing about HTTP or what a prediction means.
"""
