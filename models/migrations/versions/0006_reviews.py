"""review rounds, ballots (closed rounds refuse ballots in the database), publicity and objections

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:20:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# A ballot for a round that has closed is refused by the database itself, whatever the code does.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER ballot_round_open_insert BEFORE INSERT ON ballot
    WHEN (SELECT closed_at FROM review_round WHERE id = NEW.round_id) IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'round closed'); END""",
    """CREATE TRIGGER ballot_round_open_update BEFORE UPDATE ON ballot
    WHEN (SELECT closed_at FROM review_round WHERE id = NEW.round_id) IS NOT NULL
       OR (SELECT closed_at FROM review_round WHERE id = OLD.round_id) IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'round closed'); END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION ballot_round_open() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT closed_at FROM review_round WHERE id = NEW.round_id) IS NOT NULL
           OR (TG_OP = 'UPDATE'
               AND (SELECT closed_at FROM review_round WHERE id = OLD.round_id) IS NOT NULL) THEN
            RAISE EXCEPTION 'round closed';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER ballot_round_open BEFORE INSERT OR UPDATE ON ballot
    FOR EACH ROW EXECUTE FUNCTION ballot_round_open()""",
]


def upgrade() -> None:
    op.create_table(
        "publicity_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("nomination_ids", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=False),
        sa.Column("published_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("ends_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("forwarded_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("approved_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approval_document", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id"),
    )
    op.create_table(
        "review_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("honour", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("closes_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("closed_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("quorum_num", sa.Integer(), nullable=False),
        sa.Column("quorum_den", sa.Integer(), nullable=False),
        sa.Column("pass_num", sa.Integer(), nullable=False),
        sa.Column("pass_den", sa.Integer(), nullable=False),
        sa.Column("open_ballot", sa.Boolean(), nullable=False),
        sa.Column("reminder_hours", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_review_round_campaign_id"), "review_round", ["campaign_id"], unique=False)
    op.create_table(
        "review_panel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "reviewer_id"),
    )
    op.create_index(op.f("ix_review_panel_reviewer_id"), "review_panel", ["reviewer_id"], unique=False)
    op.create_index(op.f("ix_review_panel_round_id"), "review_panel", ["round_id"], unique=False)
    op.create_table(
        "review_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("offset_hours", sa.Integer(), nullable=False),
        sa.Column("due_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("sent_at", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "reviewer_id", "offset_hours"),
    )
    op.create_index(op.f("ix_review_reminder_due_at"), "review_reminder", ["due_at"], unique=False)
    op.create_index(op.f("ix_review_reminder_round_id"), "review_reminder", ["round_id"], unique=False)
    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("choice", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("cast_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("changed_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "nomination_id", "reviewer_id"),
    )
    op.create_index(op.f("ix_ballot_round_id"), "ballot", ["round_id"], unique=False)
    op.create_table(
        "objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publicity_id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("lodged_by", sa.Integer(), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("letter_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("evidence_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("lodged_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("deadline", models.types.UtcDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ruling", sa.Text(), nullable=False),
        sa.Column("ruled_by", sa.Integer(), nullable=True),
        sa.Column("ruled_at", models.types.UtcDateTime(), nullable=True),
        sa.Column("reminded_at", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lodged_by"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["publicity_id"],
            ["publicity_list.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ruled_by"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_objection_nomination_id"), "objection", ["nomination_id"], unique=False)
    op.create_index(op.f("ix_objection_publicity_id"), "objection", ["publicity_id"], unique=False)
    op.create_index(op.f("ix_objection_status"), "objection", ["status"], unique=False)
    op.create_table(
        "recusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", models.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "nomination_id", "reviewer_id"),
    )
    op.create_index(op.f("ix_recusal_round_id"), "recusal", ["round_id"], unique=False)
    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "nomination_id"),
    )
    op.create_index(op.f("ix_review_item_nomination_id"), "review_item", ["nomination_id"], unique=False)
    op.create_index(op.f("ix_review_item_round_id"), "review_item", ["round_id"], unique=False)
    triggers = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ballot_round_open ON ballot")
        op.execute("DROP FUNCTION IF EXISTS ballot_round_open()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ballot_round_open_insert")
        op.execute("DROP TRIGGER IF EXISTS ballot_round_open_update")
    op.drop_index(op.f("ix_review_item_round_id"), table_name="review_item")
    op.drop_index(op.f("ix_review_item_nomination_id"), table_name="review_item")
    op.drop_table("review_item")
    op.drop_index(op.f("ix_recusal_round_id"), table_name="recusal")
    op.drop_table("recusal")
    op.drop_index(op.f("ix_objection_status"), table_name="objection")
    op.drop_index(op.f("ix_objection_publicity_id"), table_name="objection")
    op.drop_index(op.f("ix_objection_nomination_id"), table_name="objection")
    op.drop_table("objection")
    op.drop_index(op.f("ix_ballot_round_id"), table_name="ballot")
    op.drop_table("ballot")
    op.drop_index(op.f("ix_review_reminder_round_id"), table_name="review_reminder")
    op.drop_index(op.f("ix_review_reminder_due_at"), table_name="review_reminder")
    op.drop_table("review_reminder")
    op.drop_index(op.f("ix_review_panel_round_id"), table_name="review_panel")
    op.drop_index(op.f("ix_review_panel_reviewer_id"), table_name="review_panel")
    op.drop_table("review_panel")
    op.drop_index(op.f("ix_review_round_campaign_id"), table_name="review_round")
    op.drop_table("review_round")
    op.drop_table("publicity_list")
