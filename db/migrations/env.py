"""Alembic environment: migrations run on the connection that db.engine.migrate passes in."""

from alembic import context

from db.models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs via copy-and-move
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
