"""workers take turns on the inbox by chat: each update's chat, and a lease per chat

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the submodule itself: autogenerate writes its AutoString by that path
from alembic import op

import models.types
from services.inbox import chat_of  # the inbox's own reading of a payload: order must match it

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inboxlease",
        sa.Column("chat_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("until", models.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_key"),
    )
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
    _fill_chats()


def _fill_chats() -> None:
    """Updates waiting at the upgrade, and dead letters that may be replayed, keep their chat's
    order; done ones never run again and stay without."""
    inbox = sa.table(
        "inboxupdate",
        sa.column("update_id", sa.BigInteger()),
        sa.column("payload", sa.JSON()),
        sa.column("status", sa.String()),
        sa.column("chat_id", sa.BigInteger()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(inbox.c.update_id, inbox.c.payload).where(inbox.c.status != "done"))
    chats = [
        {"id": update_id, "chat": chat}
        for update_id, payload in rows
        if (chat := chat_of(payload)) is not None
    ]
    if chats:
        fill = inbox.update().where(inbox.c.update_id == sa.bindparam("id"))
        connection.execute(fill.values(chat_id=sa.bindparam("chat")), chats)


def downgrade() -> None:
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.drop_column("chat_id")
    op.drop_table("inboxlease")
