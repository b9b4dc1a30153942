"""Alembic environment (core layer). Runs only in-app, on the already-keyed connection."""

from alembic import context

from core.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Lantern migrations run inside the app on a keyed connection, not from the alembic CLI.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
