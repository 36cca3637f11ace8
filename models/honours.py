"""Honours (第十七条): awarded from approved nominations, valid three years, re-reviewed (复议) at
expiry, revocable for a serious breach, and optionally recommended to the national programme."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class Honour(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    certificate_no: str = Field(max_length=32, unique=True)  # GD-2026-STAR-0001
    nomination_id: int = Field(foreign_key="nomination.id", unique=True)  # one honour per nomination
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    campaign_year: int
    honour: str = Field(max_length=16, index=True)
    holder_id: int = Field(foreign_key="person.id", index=True)
    holder_name: str = Field(max_length=100)
    unit: str = Field(default="", max_length=200)  # employer or enterprise, from the dossier
    city: str = Field(default="", max_length=30, index=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True
    )  # recommending body
    status: str = Field(max_length=16, index=True)  # services.rules.honour_validity.Status
    valid_from: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    valid_until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # The sweep's cursor: when this honour next needs attention (a reminder or its expiry). NULL
    # once nothing more is due (revoked, expired). Indexed: the sweep reads only rows due now.
    next_due_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True, index=True)
    )
    reminded_days: int | None = None  # the last reminder sent in this validity period (days before expiry)
    certificate_sha256: str = Field(default="", max_length=64)
    awarded_by: int | None = Field(default=None, foreign_key="person.id")
    awarded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    revoked_by: int | None = Field(default=None, foreign_key="person.id")
    revoke_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    revoke_document_sha256: str | None = Field(default=None, max_length=64)
    national_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    national_by: int | None = Field(default=None, foreign_key="person.id")


class HonourReview(SQLModel, table=True):
    """复议: one per honour and validity period, started by the holder or their recommending body,
    with updated evidence; the office re-confirms (three more years) or lets it lapse."""

    __table_args__ = (UniqueConstraint("honour_id", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    honour_id: int = Field(foreign_key="honour.id", index=True)
    period_end: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))  # valid_until when started
    started_by: int = Field(foreign_key="person.id")
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # [{"slot": "satisfaction_report" | "evidence", "sha256": …, "file_name": …, "kind": …}]
    evidence: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    status: str = Field(max_length=16, index=True)  # services.lifecycles.honour.RereviewStatus
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    new_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
