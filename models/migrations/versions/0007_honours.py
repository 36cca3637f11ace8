"""honours

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:30:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "honour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("campaign_year", sa.Integer(), nullable=False),
        sa.Column("honour", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("valid_from", models.types.UtcDateTime(), nullable=False),
        sa.Column("valid_until", models.types.UtcDateTime(), nullable=False),
        sa.Column("next_due_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("reminded_days", sa.Integer(), nullable=True),
        sa.Column("certificate_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("awarded_by", sa.Integer(), nullable=True),
        sa.Column("awarded_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("revoked_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("revoke_document_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("national_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("national_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["awarded_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["national_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("certificate_no"),
        sa.UniqueConstraint("nomination_id"),
    )
    with op.batch_alter_table("honour", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_honour_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_honour_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_honour_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_honour_honour"), ["honour"], unique=False)
        batch_op.create_index(batch_op.f("ix_honour_next_due_at"), ["next_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_honour_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_honour_status"), ["status"], unique=False)

    op.create_table(
        "honourreview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("honour_id", sa.Integer(), nullable=False),
        sa.Column("period_end", models.types.UtcDateTime(), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("submitted_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("new_until", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["honour_id"],
            ["honour.id"],
        ),
        sa.ForeignKeyConstraint(
            ["started_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("honour_id", "period_end"),
    )
    with op.batch_alter_table("honourreview", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_honourreview_honour_id"), ["honour_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("honourreview", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_honourreview_honour_id"))
    op.drop_table("honourreview")
    with op.batch_alter_table("honour", schema=None) as batch_op:
        for name in (
            "status",
            "organisation_id",
            "next_due_at",
            "honour",
            "holder_id",
            "city",
            "campaign_id",
        ):
            batch_op.drop_index(batch_op.f(f"ix_honour_{name}"))
    op.drop_table("honour")
