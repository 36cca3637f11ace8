"""replies kept with the decision: the update's Bot API calls as outbox rows, who is sending a row
since when, and how often a row was sent again after a crash

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("call", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.add_column(sa.Column("claimed_at", models.types.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resends", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_outboxmessage_update_id"), ["update_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_update_id"))
        for column in ("resends", "claimed_at", "claimed_by", "call", "update_id"):
            batch_op.drop_column(column)
