"""The office side of nominations: what a return for supplement looked at, and the reminders sent
before the nomination window closes."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class ReturnSnapshot(SQLModel, table=True):
    """The dossier as it stood when the office returned it (退回补充), so that on resubmission the
    office sees what changed: fields before/after, materials added and removed."""

    __table_args__ = (UniqueConstraint("nomination_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    round: int  # the Deficiency round this return opened
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    organisation_id: int | None = None
    materials: list[Any] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # [[slot, sha, name]]
    taken_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class NominationReminder(SQLModel, table=True):
    """One reminder before the nomination window closes, sent once: the UNIQUE key is the promise,
    whether the sweep runs twice or late."""

    __table_args__ = (UniqueConstraint("recipient_id", "subject", "campaign_id", "offset_days"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="person.id")
    subject: str = Field(max_length=40)  # "nomination:<id>" (applicant) or "organisation:<id>" (recommender)
    campaign_id: int = Field(foreign_key="campaign.id")
    offset_days: int  # sent this many days before Campaign.nomination_closes
    sent_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
