"""lifecycles as data: a review round, a 公示 list and a re-review each have a status column, which
only their lifecycle changes (a round's state was its closed_at; a re-review's its outcome); a
return for supplement keeps its items as ids with the office's notes, said in words at the edge

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

STATUS = sqlmodel.sql.sqltypes.AutoString(length=16)
# What each record's status is, read from the columns that said it before.
BACKFILL = {
    "review_round": "CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END",
    "publicity_list": "CASE WHEN approved_at IS NOT NULL THEN 'approved' "
    "WHEN forwarded_at IS NOT NULL THEN 'forwarded' ELSE 'published' END",
    "honourreview": "CASE WHEN outcome IS NOT NULL THEN outcome "
    "WHEN submitted_at IS NOT NULL THEN 'submitted' ELSE 'started' END",
}


def upgrade() -> None:
    # Added in place, not by batch (which copies the table): review_round's ballot triggers name it.
    # SQLite adds a NOT NULL column only with a default; "new" is no state, so a row written without
    # its lifecycle fails loudly where it is read.
    for table, value in BACKFILL.items():
        op.add_column(table, sa.Column("status", STATUS, nullable=False, server_default="new"))
        op.execute(f"UPDATE {table} SET status = {value}")
        op.create_index(op.f(f"ix_{table}_status"), table, ["status"], unique=False)
    with op.batch_alter_table("honourreview", schema=None) as batch_op:
        batch_op.drop_column("outcome")
    op.add_column("nominationmove", sa.Column("items", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("nominationmove", "items")
    with op.batch_alter_table("honourreview", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", STATUS, nullable=True))
    op.execute("UPDATE honourreview SET outcome = status WHERE status IN ('reconfirmed', 'lapsed')")
    for table in BACKFILL:
        op.drop_index(op.f(f"ix_{table}_status"), table_name=table)
        op.drop_column(table, "status")
