"""evaluation cards

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 09:30:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluationcard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("status_changed_at", models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("evaluationcard", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluationcard_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluationcard_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluationcard_unit"), ["unit"], unique=False)

    op.create_table(
        "cardrating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("rater_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rated_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("overall", sa.Integer(), nullable=False),
        sa.Column("attitude", sa.Integer(), nullable=False),
        sa.Column("skill", sa.Integer(), nullable=False),
        sa.Column("efficiency", sa.Integer(), nullable=False),
        sa.Column("promise", sa.Integer(), nullable=False),
        sa.Column("recommend", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("comment_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("comment_ruled_by", sa.Integer(), nullable=True),
        sa.Column("new_rater", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["evaluationcard.id"],
        ),
        sa.ForeignKeyConstraint(
            ["comment_ruled_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_id", "rater_hash", "rated_on"),
    )
    with op.batch_alter_table("cardrating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cardrating_card_id"), ["card_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cardrating_rater_hash"), ["rater_hash"], unique=False)

    op.create_table(
        "cardrater",
        sa.Column("rater_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("first_seen_at", models.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rater_hash"),
    )
    op.create_table(
        "cardsecret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("cardsecret")
    op.drop_table("cardrater")
    with op.batch_alter_table("cardrating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cardrating_rater_hash"))
        batch_op.drop_index(batch_op.f("ix_cardrating_card_id"))
    op.drop_table("cardrating")
    with op.batch_alter_table("evaluationcard", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluationcard_unit"))
        batch_op.drop_index(batch_op.f("ix_evaluationcard_owner_id"))
        batch_op.drop_index(batch_op.f("ix_evaluationcard_campaign_id"))
    op.drop_table("evaluationcard")
