"""Nominations (第十六条第1项): the dossier, its materials, the recommending body's endorsement,
the office's preliminary check, and every move between stages."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class Nomination(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    honour: str = Field(max_length=16)
    applicant_id: int = Field(foreign_key="person.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    stage: str = Field(max_length=32, index=True)  # services.rules.nomination_flow.Stage
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    selfcheck_id: int | None = Field(default=None, foreign_key="selfcheck.id")
    publish_consent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    supplement_deadline: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    version: int = 1  # bumped on every move; moves lock the row, so two people cannot both win
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class NominationMaterial(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    slot: str = Field(max_length=64)  # a checklist material id, e.g. "satisfaction_report"
    sha256: str = Field(max_length=64)
    file_name: str = Field(max_length=128)  # sanitised for display
    kind: str = Field(max_length=8)
    size: int
    uploaded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    removed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class Endorsement(SQLModel, table=True):
    """The recommending body's recommendation opinion with the scan of its official seal."""

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", unique=True)
    opinion: str = Field(sa_column=Column(Text, nullable=False))
    seal_sha256: str = Field(max_length=64)
    endorsed_by: int = Field(foreign_key="person.id")
    endorsed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class NominationMove(SQLModel, table=True):
    """The nomination's history as its applicant sees it (the audit log holds the same, chained)."""

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    from_stage: str = Field(max_length=32)
    to_stage: str = Field(max_length=32)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    # A return for supplement's items as (item id, the office's note) pairs, said in words at the edge.
    items: list[list[str]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Quota(SQLModel, table=True):
    """名额分配表: how many nominations a recommending body may endorse per honour and campaign."""

    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id", "honour"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    honour: str = Field(max_length=16)
    places: int


class Deficiency(SQLModel, table=True):
    """一次性告知: one item the office found missing or deficient, all listed in one return."""

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    round: int
    item: str = Field(max_length=80)  # "field:phone", "material:satisfaction_report", "seal"
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class Verification(SQLModel, table=True):
    """核实: a spot check or on-site visit the office made, with its finding and files."""

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    on: date
    finding: str = Field(sa_column=Column(Text, nullable=False))
    files: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_by: int = Field(foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
