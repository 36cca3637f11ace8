"""The audit log: append-only, each record chained to the one before by its hash."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class AuditRecord(SQLModel, table=True):
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor_id: int | None = Field(default=None, index=True)  # person.id; None for the system
    action: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=64, index=True)  # "nomination:12", "person:3"
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the last sequence number and hash. Locking it serialises appends across workers."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
