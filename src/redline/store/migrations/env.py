"""Alembic environment: runs migrations on the connection the store hands over."""

from alembic import context

from redline.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("redline migrations run through redline.store.Store, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
