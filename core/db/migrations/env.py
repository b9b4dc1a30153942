"""Alembic environment (core layer). Runs only in-app, on the already-keyed connection.

Beware batch mode (`op.batch_alter_table`) on any table that other tables reference with ON DELETE CASCADE
(incidents above all): it copies the table and drops the old one, and with foreign keys on, that drop deletes
every child row. Use SQLite's own ALTER TABLE (ADD, RENAME and DROP COLUMN) there, as migration 0006 does;
tests/core/services/test_summaries.py downgrades and upgrades a store holding data to prove nothing is lost.
"""

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
