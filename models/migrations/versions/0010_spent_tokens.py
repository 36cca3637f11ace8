"""a one-time button's token is spent by the commit that carries its decision

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actiontoken", schema=None) as batch_op:
        batch_op.add_column(sa.Column("used_at", models.types.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("actiontoken", schema=None) as batch_op:
        batch_op.drop_column("used_at")
