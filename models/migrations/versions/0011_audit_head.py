"""the audit chain's head row exists from the start

Concurrent first audited actions on a fresh database each found no head and each inserted one: one
of them failed on the primary key. The row is made here, once, before any worker serves.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GENESIS = "0" * 64  # as services/audit.py: the hash before the first record


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO audithead (id, seq, hash) SELECT 1, 0, :genesis "
            "WHERE NOT EXISTS (SELECT 1 FROM audithead WHERE id = 1)"
        ).bindparams(genesis=GENESIS)
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM audithead WHERE id = 1 AND seq = 0"))
