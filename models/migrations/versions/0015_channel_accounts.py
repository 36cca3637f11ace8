"""people, not Telegram ids: a person is reached through accounts on channels (Telegram's user id
moves from person to a channel account); an outbox row addresses a person, whose channel's sender
delivers it; an action token is issued to a person

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:30:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "channelaccount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", STRING(length=16), nullable=False),
        sa.Column("address", STRING(length=64), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address"),
        sa.UniqueConstraint("person_id", "channel"),
    )
    op.create_index(op.f("ix_channelaccount_person_id"), "channelaccount", ["person_id"], unique=False)
    # A forgotten person's telegram_id was set to minus their id: they have no account left.
    op.execute(
        "INSERT INTO channelaccount (person_id, channel, address) "
        "SELECT id, 'telegram', CAST(telegram_id AS VARCHAR(64)) FROM person WHERE telegram_id > 0"
    )
    with op.batch_alter_table("actiontoken", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE actiontoken SET person_id = "
        "(SELECT person.id FROM person WHERE person.telegram_id = actiontoken.telegram_id)"
    )
    op.execute("DELETE FROM actiontoken WHERE person_id IS NULL")  # issued to no one who is left
    with op.batch_alter_table("actiontoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actiontoken_telegram_id"))
        batch_op.drop_column("telegram_id")
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_actiontoken_person_id_person", "person", ["person_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_actiontoken_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.create_foreign_key("fk_outboxmessage_person_id_person", "person", ["person_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_outboxmessage_person_id"), ["person_id"], unique=False)
    op.drop_index(op.f("ix_person_telegram_id"), table_name="person")
    op.drop_column("person", "telegram_id")  # in place: SQLite drops a plain column since 3.35


def downgrade() -> None:
    op.add_column("person", sa.Column("telegram_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE person SET telegram_id = COALESCE((SELECT CAST(address AS BIGINT) FROM channelaccount "
        "WHERE channelaccount.person_id = person.id AND channel = 'telegram'), -person.id)"
    )
    op.create_index(op.f("ix_person_telegram_id"), "person", ["telegram_id"], unique=True)
    op.execute("DELETE FROM outboxmessage WHERE chat_id IS NULL")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_person_id"))
        batch_op.drop_constraint("fk_outboxmessage_person_id_person", type_="foreignkey")
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("person_id")
    with op.batch_alter_table("actiontoken", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE actiontoken SET telegram_id = "
        "(SELECT telegram_id FROM person WHERE person.id = actiontoken.person_id)"
    )
    with op.batch_alter_table("actiontoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actiontoken_person_id"))
        batch_op.drop_constraint("fk_actiontoken_person_id_person", type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f("ix_actiontoken_telegram_id"), ["telegram_id"], unique=False)
    op.drop_index(op.f("ix_channelaccount_person_id"), table_name="channelaccount")
    op.drop_table("channelaccount")
