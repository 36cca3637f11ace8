"""broadcasts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:30:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("confirm_token", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("file_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.Integer(), nullable=True),
        sa.Column("progress_locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("progress_shown", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("finished_at", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("confirm_token"),
    )
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcast_finished_at"), ["finished_at"], unique=False)
    # One outbox row per broadcast and chat (NULL broadcast_id rows are never compared).
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index("uq_outbox_broadcast_chat", ["broadcast_id", "chat_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_broadcast_chat")
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_finished_at"))
    op.drop_table("broadcast")
