"""Announcements from the office to every subscriber (Art. 17.3: the office publicises the winners).

A broadcast is one row here plus one outbox row per recipient; its progress is read from those
outbox rows by broadcast_id, so the sender needs no extra bookkeeping."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel, col

from models.messaging import OutboxMessage
from models.types import UtcDateTime


class Broadcast(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The confirm button's token: a second press (or a redelivered update) finds this row instead
    # of queuing the announcement again.
    confirm_token: str = Field(unique=True, max_length=24)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))  # the office's own words, unescaped
    file_sha256: str | None = Field(default=None, max_length=64)
    file_name: str | None = Field(default=None, max_length=128)
    file_kind: str | None = Field(default=None, max_length=16)  # photo | document
    total: int = 0
    # The office's message that shows progress, edited in place, then the final report.
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_message_id: int | None = None
    progress_locale: str = Field(default="zh_CN", max_length=8)
    progress_shown: str = Field(default="", max_length=200)  # the figures last shown, to skip unchanged edits
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True, index=True)
    )


# One outbox row per broadcast and chat: re-running a send can never queue an announcement twice.
# Rows that are not part of a broadcast have broadcast_id NULL, which a unique index never compares.
Index(
    "uq_outbox_broadcast_chat",
    col(OutboxMessage.broadcast_id),
    col(OutboxMessage.chat_id),
    unique=True,
)
