"""nomination reminders and return snapshots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returnsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("taken_at", models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nomination_id", "round"),
    )
    op.create_index(
        op.f("ix_returnsnapshot_nomination_id"), "returnsnapshot", ["nomination_id"], unique=False
    )
    op.create_table(
        "nominationreminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("sent_at", models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "subject", "campaign_id", "offset_days"),
    )


def downgrade() -> None:
    op.drop_table("nominationreminder")
    op.drop_index(op.f("ix_returnsnapshot_nomination_id"), table_name="returnsnapshot")
    op.drop_table("returnsnapshot")
