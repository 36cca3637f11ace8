"""The annual campaign (第五条), working-day overrides, and applicants' self-checks."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, enum_column


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    honours: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # honour codes granted
    nomination_opens: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    nomination_closes: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    precheck_deadline: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    review_opens: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    review_closes: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    publicity_workdays: int = 5
    announcement_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class WorkdayOverride(SQLModel, table=True):
    """A day the office declares a working day or a holiday, for years the calendar package lacks."""

    day: date = Field(primary_key=True)
    is_workday: bool
    note: str = ""
    created_by: int | None = Field(default=None, foreign_key="person.id")


class SelfCheckStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class SelfCheck(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    honour: str = Field(max_length=16)
    catalogue_version: str = Field(max_length=32)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    position: int = 0  # index of the question being asked
    status: SelfCheckStatus = Field(
        default=SelfCheckStatus.IN_PROGRESS, sa_column=enum_column(SelfCheckStatus)
    )
    verdict: str | None = Field(default=None, max_length=32)
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
