"""Guard events: the request id and the event log record each row came from.

``log_hash`` is unique, so ingesting the same log records twice (after a store outage,
or from ``redline log ingest``) never duplicates an event.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("log_hash", sa.String(64), nullable=True))
    op.create_index("ix_events_request_id", "events", ["request_id"])
    op.create_index("ix_events_log_hash", "events", ["log_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_events_log_hash", "events")
    op.drop_index("ix_events_request_id", "events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("log_hash")
        batch.drop_column("request_id")
