"""Durable messaging: the inbox of received updates and its leases, handled ids, the outbox, action
tokens, FSM."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, enum_column


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class InboxUpdate(SQLModel, table=True):
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: InboxStatus = Field(default=InboxStatus.PENDING, sa_column=enum_column(InboxStatus, index=True))
    attempts: int = 0
    last_error: str = ""
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # The chat whose order it keeps, from the payload when stored; None: it waits for nobody.
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class InboxLease(SQLModel, table=True):
    """A worker's turn on one chat's pending updates, until it lets go or `until` passes (it died)."""

    chat_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    worker: str = Field(max_length=64)
    until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class HandledUpdate(SQLModel, table=True):
    """Written in the same transaction as an update's effects: a redelivered update is then a no-op."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    handled_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed; if a crash leaves it here, it may or may not have been delivered
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCERTAIN = "uncertain"


class OutboxMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    # Whom: a person, reached on whichever channel they have an account (its sender claims the row),
    # or, for a reply, the Telegram chat it answers. The Telegram sender writes the chat on claiming.
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    # What to say, as a translation key and its parameters: rendered in the recipient's language.
    template: str = Field(max_length=128)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Inline buttons: [[{"label": key, "params": {...}, "token": action token}], ...]
    buttons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    document_path: str | None = None  # a file in the file store, sent as a document
    protect: bool = False
    broadcast_id: int | None = Field(default=None, index=True)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_column=enum_column(OutboxStatus))
    attempts: int = 0
    not_before: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    telegram_message_id: int | None = None
    error: str = ""
    # A reply: the Bot API call a handler made while handling this update, kept as it was made
    # ({"method": class name, "fields": {...}}), and sent right after the update's commit.
    update_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    call: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Who is sending it, since when: a row whose sender died mid-send is sent again, and counted.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    resends: int = 0  # times sent again after a crash left it mid-send: it may have arrived that often more


class ActionToken(SQLModel, table=True):
    """An opaque token behind a button that acts: issued to one person for one action."""

    token: str = Field(primary_key=True, max_length=24)
    person_id: int = Field(foreign_key="person.id", index=True)
    action: str = Field(max_length=48)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Set by the commit that carries a one-time decision: the same button pressed again is refused.
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class FsmRecord(SQLModel, table=True):
    """Conversation progress (aiogram FSM) kept in the database so it survives a restart."""

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
