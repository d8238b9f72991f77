"""Attempts indexed by (run_id, id): one run's attempts in id order, for paged reads.

Without it SQLite reads every attempt of a run through the (run_id, key) index and sorts
them before it can stop at one page of a filtered attempts table.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_attempts_run_id", "attempts", ["run_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_attempts_run_id", table_name="attempts")
